//! `app` serves the board; `app migrate` prepares the database and exits.

use std::process::ExitCode;

use app::{config::Settings, db, startup, telemetry};

/// mimalloc: a page view allocates many short-lived strings, where glibc's malloc spent a
/// tenth of the time (docs/profile.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "\
usage: app [serve | migrate]

  serve        wait for Postgres, create the database if missing, migrate, then serve (default)
  migrate      wait for Postgres, create the database if missing, migrate, then exit
  healthcheck  exit 0 if the server on LISTEN_ADDR answers /healthz (for HEALTHCHECK)

Configured from the environment: DATABASE_URL (required), LISTEN_ADDR, METRICS_ADDR,
DATABASE_POOL_SIZE, DATABASE_POOL_TIMEOUT, STARTUP_WAIT, SHUTDOWN_TIMEOUT, STATIC_DIR,
HTTP_WORKERS, POST_LIMIT_PER_MINUTE, POST_LIMIT_BURST, TRUSTED_PROXIES, RUST_LOG, LOG_FORMAT.";

fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    let migrate_only = match command.as_deref() {
        None | Some("serve") => false,
        Some("migrate") => true,
        Some("healthcheck") => return app::probe::healthcheck(),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("app: unknown command {other:?}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(migrate_only) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("app: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(migrate_only: bool) -> Result<(), app::Error> {
    let settings = Settings::from_env()?;
    telemetry::init(settings.log_format);
    if migrate_only {
        return Ok(db::prepare(&settings)?);
    }
    actix_web::rt::System::new().block_on(startup::serve(settings))
}
