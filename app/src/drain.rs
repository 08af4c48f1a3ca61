//! Leaving the rotation before stopping. On SIGTERM the board first says it is not ready
//! (`/readyz` answers 503 `draining`, which nginx's upstream watcher reads to drop the replica
//! from its pool), asks each peer to close its keep-alive connection after the response it is
//! given, and keeps serving for `DRAIN_PERIOD`; only then does it stop accepting connections and
//! finish the requests in flight within `SHUTDOWN_TIMEOUT`. SIGINT (Ctrl-C) stops at once,
//! gracefully, without the drain.

use std::{
    pin::pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::ConnectionType,
    middleware::Next,
    rt::signal::unix::{signal, SignalKind},
    web,
};
use futures_util::future::{select, Either};

use crate::startup::ApplicationHandle;

/// Whether the board is draining: shared by the handlers, the middleware and the signal task.
#[derive(Clone, Default)]
pub struct Drain(Arc<AtomicBool>);

impl Drain {
    /// From now on the board reports not ready and closes connections after each response.
    pub fn start(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// True once the drain started.
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Middleware: while draining, every response closes its connection, so a proxy keeps no idle
/// keep-alive connection to a replica that is about to stop (a request sent on one just as it
/// closes could not be retried safely).
pub async fn close_while_draining(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let draining = req
        .app_data::<web::Data<Drain>>()
        .is_some_and(|d| d.is_draining());
    let mut res = next.call(req).await?;
    if draining {
        res.response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    Ok(res)
}

/// Waits for SIGTERM or SIGINT and stops the board (`server`) as the module says: SIGTERM drains for
/// `period` first (a second signal cuts the drain short).
pub async fn stop_on_signal(server: ApplicationHandle, drain: Drain, period: Duration) {
    let (Ok(mut terminate), Ok(mut interrupt)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("could not listen for SIGTERM and SIGINT; stop the board with SIGKILL");
        return;
    };
    let terminated = matches!(
        select(pin!(terminate.recv()), pin!(interrupt.recv())).await,
        Either::Left(_)
    );
    if terminated {
        drain.start();
        tracing::info!(
            drain_ms = period.as_millis() as u64,
            "SIGTERM: draining (/readyz answers 503) before stopping"
        );
        let (again_terminate, again_interrupt) = (pin!(terminate.recv()), pin!(interrupt.recv()));
        let again = select(again_terminate, again_interrupt);
        let _ = select(pin!(actix_web::rt::time::sleep(period)), again).await;
        tracing::info!("drained: stopping");
    } else {
        tracing::info!("SIGINT: stopping");
    }
    server.stop(true).await;
}
