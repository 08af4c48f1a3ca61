//! Every setting the board reads, parsed once from the environment into typed values.
//!
//! Containers are configured through variables, so that is the only source: no files, no flags.
//! A missing or malformed variable is reported as one sentence naming it.

use std::{env, fmt, net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

use ipnet::IpNet;
use url::Url;

/// Why the environment does not describe a runnable board.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set; it must name the Postgres database, e.g. postgres://user:password@host:5432/board")]
    Missing(&'static str),
    #[error("{name} is not valid: {reason} (got {value:?})")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
}

/// A connection string whose password must never reach a log line.
#[derive(Clone)]
pub struct DatabaseUrl(Url);

impl DatabaseUrl {
    /// Parses a `postgres://` or `postgresql://` URL that names a database.
    pub fn parse(value: &str) -> Result<Self, String> {
        let url = Url::parse(value).map_err(|e| e.to_string())?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(format!(
                "the scheme must be postgres:// or postgresql://, not {}://",
                url.scheme()
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("the URL names no host".into());
        }
        let url = Self(url);
        if url.database_name().is_empty() {
            return Err("the URL names no database (add /NAME after the host)".into());
        }
        Ok(url)
    }

    /// The name of the database the board keeps its comments in.
    pub fn database_name(&self) -> String {
        let name = self.0.path().trim_start_matches('/');
        percent_decode(name)
    }

    /// The same server's `postgres` maintenance database, from where a missing database is created.
    pub fn maintenance(&self) -> Self {
        let mut url = self.0.clone();
        url.set_path("/postgres");
        Self(url)
    }

    /// The URL with its password, for libpq only.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }
}

fn percent_decode(value: &str) -> String {
    url::form_urlencoded::parse(format!("n={value}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.0.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("********"));
        }
        f.write_str(shown.as_str())
    }
}

/// The board's settings: what to serve, where, and how patiently to talk to Postgres.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATABASE_URL`: where the comments live. Required.
    pub database_url: DatabaseUrl,
    /// `LISTEN_ADDR`: the address the HTTP server binds (default `0.0.0.0:8000`).
    pub listen_addr: SocketAddr,
    /// `DATABASE_POOL_SIZE`: most connections held open to Postgres (default 10).
    pub pool_size: u32,
    /// `DATABASE_POOL_TIMEOUT`: longest a request waits for a connection before answering 503
    /// (default 2s), so a dead database gives a fast error page instead of hung requests.
    pub pool_timeout: Duration,
    /// `STARTUP_WAIT`: how long start-up waits for Postgres to answer (default 60s).
    pub startup_wait: Duration,
    /// `SHUTDOWN_TIMEOUT`: how long requests in flight may finish after SIGTERM (default 8s,
    /// inside the 10s `docker stop` allows).
    pub shutdown_timeout: Duration,
    /// `DRAIN_PERIOD`: how long the board keeps serving after SIGTERM while `/readyz` says it
    /// is draining, so the proxy takes it out of rotation first (default 3s: nginx's upstream
    /// watcher looks every 2 s). Drain and `SHUTDOWN_TIMEOUT` together must fit in the
    /// container's stop grace period.
    pub drain_period: Duration,
    /// `BOARD_RELEASE`: a name for the running release, sent as `X-Board-Release` on every
    /// response when set (the image's build argument of the same name sets it), so a rollout
    /// can be watched from outside.
    pub release: Option<String>,
    /// `STATIC_DIR`: the folder served under `/static` (default `static`, when it exists).
    /// Set it empty to serve nothing there, as behind nginx.
    pub static_dir: Option<PathBuf>,
    /// `HTTP_WORKERS`: actix-web worker threads (default: one per core).
    pub workers: Option<usize>,
    /// `LOG_FORMAT`: `text` (default, for people) or `json` (one object a line, for a shipper).
    pub log_format: LogFormat,
    /// `METRICS_ADDR`: the address of the second listener, which serves only `/metrics`
    /// (default `0.0.0.0:9000`; empty for none). nginx never proxies to it.
    pub metrics_addr: Option<SocketAddr>,
    /// `POST_LIMIT_PER_MINUTE` and `POST_LIMIT_BURST`: how many posts a client address may make
    /// (default 20 a minute, in bursts of up to 10). `POST_LIMIT_PER_MINUTE=off` turns it off.
    pub post_limit: Option<PostLimit>,
    /// `TRUSTED_PROXIES`: the addresses or networks (comma-separated CIDR) whose `X-Real-IP`
    /// names the client (default: none, so the peer address is the client).
    pub trusted_proxies: Vec<IpNet>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line, for a log shipper.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, String> {
        match value.trim() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err("expected text or json".into()),
        }
    }
}

/// How many posts one client address may make: a sustained rate and a burst above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostLimit {
    /// Posts per minute, sustained.
    pub per_minute: u32,
    /// Posts that may come at once before the rate applies.
    pub burst: u32,
}

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    /// Reads the settings through `lookup`, so tests can pass their own variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());
        let invalid = |name: &'static str, value: &str, reason: String| ConfigError::Invalid {
            name,
            value: value.to_owned(),
            reason,
        };
        let duration = |name: &'static str, default: Duration| match var(name) {
            None => Ok(default),
            Some(v) => parse_duration(&v).map_err(|reason| invalid(name, &v, reason)),
        };
        let number = |name: &'static str| -> Result<Option<u32>, ConfigError> {
            var(name)
                .map(|v| match v.trim().parse::<u32>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(invalid(name, &v, "expected a whole number above 0".into())),
                })
                .transpose()
        };

        let url = var("DATABASE_URL").ok_or(ConfigError::Missing("DATABASE_URL"))?;
        let database_url =
            DatabaseUrl::parse(url.trim()).map_err(|reason| ConfigError::Invalid {
                name: "DATABASE_URL",
                value: DatabaseUrl::redact_raw(&url),
                reason,
            })?;
        let listen_addr = match var("LISTEN_ADDR") {
            None => SocketAddr::from(([0, 0, 0, 0], 8000)),
            Some(v) => v.trim().parse().map_err(|_| {
                invalid(
                    "LISTEN_ADDR",
                    &v,
                    "expected IP:PORT, e.g. 0.0.0.0:8000".into(),
                )
            })?,
        };
        let post_limit = match var("POST_LIMIT_PER_MINUTE") {
            Some(v) if v.trim() == "off" => None,
            _ => Some(PostLimit {
                per_minute: number("POST_LIMIT_PER_MINUTE")?.unwrap_or(20),
                burst: number("POST_LIMIT_BURST")?.unwrap_or(10),
            }),
        };
        let trusted_proxies = match var("TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(v) => {
                parse_networks(&v).map_err(|reason| invalid("TRUSTED_PROXIES", &v, reason))?
            }
        };
        let log_format = match var("LOG_FORMAT") {
            None => LogFormat::default(),
            Some(v) => v
                .parse()
                .map_err(|reason| invalid("LOG_FORMAT", &v, reason))?,
        };
        let metrics_addr = match lookup("METRICS_ADDR") {
            Some(v) if v.trim().is_empty() => None,
            None => Some(SocketAddr::from(([0, 0, 0, 0], 9000))),
            Some(v) => Some(v.trim().parse().map_err(|_| {
                invalid(
                    "METRICS_ADDR",
                    &v,
                    "expected IP:PORT, e.g. 0.0.0.0:9000, or empty for none".into(),
                )
            })?),
        };
        let static_dir = match lookup("STATIC_DIR") {
            Some(v) if v.trim().is_empty() => None,
            Some(v) => Some(PathBuf::from(v)),
            None => Some(PathBuf::from("static")).filter(|p| p.is_dir()),
        };
        Ok(Self {
            database_url,
            listen_addr,
            pool_size: number("DATABASE_POOL_SIZE")?.unwrap_or(10),
            pool_timeout: duration("DATABASE_POOL_TIMEOUT", Duration::from_secs(2))?,
            startup_wait: duration("STARTUP_WAIT", Duration::from_secs(60))?,
            shutdown_timeout: duration("SHUTDOWN_TIMEOUT", Duration::from_secs(8))?,
            drain_period: duration("DRAIN_PERIOD", Duration::from_secs(3))?,
            release: var("BOARD_RELEASE").map(|v| v.trim().to_owned()),
            static_dir,
            workers: number("HTTP_WORKERS")?.map(|n| n as usize),
            log_format,
            metrics_addr,
            post_limit,
            trusted_proxies,
        })
    }
}

impl DatabaseUrl {
    /// Hides what looks like a password in a string that did not parse as a URL.
    fn redact_raw(raw: &str) -> String {
        match (raw.find("://"), raw.rfind('@')) {
            (Some(start), Some(at)) if at > start => {
                let userinfo = &raw[start + 3..at];
                match userinfo.find(':') {
                    Some(colon) => format!(
                        "{}{}:********{}",
                        &raw[..start + 3],
                        &userinfo[..colon],
                        &raw[at..]
                    ),
                    None => raw.to_owned(),
                }
            }
            _ => raw.to_owned(),
        }
    }
}

/// Reads `10.0.0.0/8, 172.16.0.0/12, 127.0.0.1`: networks, or single addresses.
fn parse_networks(value: &str) -> Result<Vec<IpNet>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<IpNet>()
                .or_else(|_| part.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{part:?} is not an address or a network such as 10.0.0.0/8"))
        })
        .collect()
}

/// Reads `60s`, `500ms`, `2m` or a bare number of seconds.
fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(value)
        .map_err(|e| format!("{e}; expected a duration such as 60s, 500ms or 2m"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_fill_everything_but_the_database() {
        let s = settings(&[
            ("DATABASE_URL", "postgres://u:p@db:5432/board"),
            ("STATIC_DIR", ""),
        ])
        .unwrap();
        assert_eq!(s.listen_addr.to_string(), "0.0.0.0:8000");
        assert_eq!(s.pool_size, 10);
        assert_eq!(s.pool_timeout, Duration::from_secs(2));
        assert_eq!(s.startup_wait, Duration::from_secs(60));
        assert_eq!(s.drain_period, Duration::from_secs(3));
        assert_eq!(s.release, None);
        assert_eq!(s.static_dir, None);
        assert_eq!(s.database_url.database_name(), "board");
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(s.metrics_addr.unwrap().to_string(), "0.0.0.0:9000");
        assert_eq!(
            s.post_limit,
            Some(PostLimit {
                per_minute: 20,
                burst: 10
            })
        );
        assert!(s.trusted_proxies.is_empty());
    }

    #[test]
    fn limits_proxies_logs_and_metrics_are_read() {
        let s = settings(&[
            ("DATABASE_URL", "postgres://db/board"),
            ("POST_LIMIT_PER_MINUTE", "off"),
            ("TRUSTED_PROXIES", "172.16.0.0/12, 127.0.0.1"),
            ("LOG_FORMAT", "json"),
            ("METRICS_ADDR", ""),
        ])
        .unwrap();
        assert_eq!(s.post_limit, None);
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.metrics_addr, None);
        let trusted: Vec<String> = s.trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(trusted, ["172.16.0.0/12", "127.0.0.1/32"]);
    }

    #[test]
    fn a_missing_database_url_is_named() {
        let err = settings(&[]).unwrap_err().to_string();
        assert!(err.starts_with("DATABASE_URL is not set"), "{err}");
    }

    #[test]
    fn malformed_values_are_named_with_what_was_expected() {
        let cases = [
            ("DATABASE_URL", "mysql://x/y", "scheme must be postgres"),
            ("DATABASE_URL", "postgres://host", "names no database"),
            ("LISTEN_ADDR", "localhost", "expected IP:PORT"),
            ("DATABASE_POOL_SIZE", "0", "whole number above 0"),
            ("STARTUP_WAIT", "soon", "expected a duration"),
            ("DRAIN_PERIOD", "a while", "expected a duration"),
            ("POST_LIMIT_BURST", "many", "whole number above 0"),
            ("TRUSTED_PROXIES", "nginx", "not an address or a network"),
            ("LOG_FORMAT", "xml", "expected text or json"),
            ("METRICS_ADDR", "9000", "expected IP:PORT"),
        ];
        for (name, value, expected) in cases {
            let mut vars = vec![("DATABASE_URL", "postgres://db/board")];
            vars.retain(|(k, _)| *k != name);
            vars.push((name, value));
            let err = settings(&vars).unwrap_err().to_string();
            assert!(
                err.contains(name) && err.contains(expected),
                "{name}={value}: {err}"
            );
        }
    }

    #[test]
    fn passwords_never_reach_display_or_errors() {
        let url = DatabaseUrl::parse("postgres://board:s3cret@db/board").unwrap();
        assert_eq!(url.to_string(), "postgres://board:********@db/board");
        assert_eq!(format!("{url:?}"), "postgres://board:********@db/board");
        let err = settings(&[("DATABASE_URL", "postgres://board:s3cret@/")])
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn durations_take_units_or_seconds() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
    }

    #[test]
    fn the_maintenance_url_keeps_credentials_and_query() {
        let url = DatabaseUrl::parse("postgres://u:p@db:5433/board?sslmode=disable").unwrap();
        assert_eq!(
            url.maintenance().expose(),
            "postgres://u:p@db:5433/postgres?sslmode=disable"
        );
    }
}
