//! Abuse limits: how many posts one client address may make, through the form and the API.
//!
//! A GCRA limiter (governor) per address: `POST_LIMIT_PER_MINUTE` sustained, in bursts of up to
//! `POST_LIMIT_BURST`. The address is the peer's, or, only when the peer is a trusted proxy
//! (`TRUSTED_PROXIES`, i.e. our nginx), the `X-Real-IP` that proxy sets: a client cannot dodge
//! the limit by sending the header itself. Each replica counts on its own; nginx's `limit_req`
//! is the limit across replicas.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use actix_web::HttpRequest;
use governor::{
    clock::{Clock, DefaultClock},
    DefaultKeyedRateLimiter, Quota, RateLimiter,
};
use ipnet::IpNet;

use crate::config::{PostLimit, Settings};

/// Above this many remembered addresses, the ones whose bucket is full again are forgotten.
const FORGET_ABOVE: usize = 10_000;

/// Decides whether a client may post now.
pub struct PostLimiter {
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    trusted_proxies: Vec<IpNet>,
}

impl PostLimiter {
    /// The limiter the settings describe (none when `POST_LIMIT_PER_MINUTE=off`).
    pub fn new(settings: &Settings) -> Self {
        Self {
            limiter: settings
                .post_limit
                .map(|limit| RateLimiter::keyed(quota(limit))),
            trusted_proxies: settings.trusted_proxies.clone(),
        }
    }

    /// `Ok` if this request's client may post now, or how long it must wait.
    pub fn check(&self, req: &HttpRequest) -> Result<(), Duration> {
        let (Some(limiter), Some(client)) = (&self.limiter, self.client_addr(req)) else {
            return Ok(());
        };
        let verdict = limiter.check_key(&client);
        if limiter.len() > FORGET_ABOVE {
            limiter.retain_recent();
        }
        verdict.map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// The client's address: the peer's, or the `X-Real-IP` a trusted proxy set.
    pub fn client_addr(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip().to_canonical();
        if !self.trusted_proxies.iter().any(|net| net.contains(&peer)) {
            return Some(peer);
        }
        let forwarded = req
            .headers()
            .get("x-real-ip")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        Some(forwarded.map_or(peer, |ip| ip.to_canonical()))
    }
}

fn quota(limit: PostLimit) -> Quota {
    let per_minute = NonZeroU32::new(limit.per_minute).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(per_minute).allow_burst(burst)
}
