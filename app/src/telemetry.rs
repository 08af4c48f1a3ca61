//! Logging, set up once: `RUST_LOG` chooses what is shown (default `info`).

use std::io::IsTerminal;

use tracing_subscriber::{fmt, fmt::format::FmtSpan, EnvFilter};

/// Installs the global subscriber; a second call (as in tests) is a no-op. Each request's span
/// is logged when it closes: one line per request, with its method, path, status, request id
/// and duration.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .with_span_events(FmtSpan::CLOSE)
        .try_init();
}
