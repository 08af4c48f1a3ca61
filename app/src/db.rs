//! Everything between the board and Postgres: the pool, and start-up that solves the article's
//! "the database must exist before the app runs".
//!
//! Start-up waits for the server with bounded back-off, creates the database if it is missing
//! and runs the embedded migrations, each step under a Postgres advisory lock so that any number
//! of replicas may start at once on a server that has never seen the board.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use diesel::{
    connection::{AnsiTransactionManager, SimpleConnection, TransactionManager},
    pg::PgConnection,
    result::{DatabaseErrorKind, Error as QueryError},
    sql_types::{BigInt, Bool, Text},
    Connection as _, ConnectionError, QueryableByName, RunQueryDsl,
};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::{
    config::{DatabaseUrl, Settings},
    metrics::PoolMetrics,
};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Advisory-lock keys: any constant works as long as nothing else on the server uses it.
const CREATE_DATABASE_LOCK: i64 = 0x626f_6172_6401; // "board" 1
const MIGRATE_LOCK: i64 = 0x626f_6172_6402; // "board" 2

/// The pool every request draws its connection from, counting waits and timeouts as it goes.
#[derive(Clone)]
pub struct Pool {
    connections: diesel::r2d2::Pool<Manager>,
    metrics: PoolMetrics,
    /// Shared with the manager: connections opened in an earlier generation are retired.
    generation: Arc<AtomicU64>,
}

impl Pool {
    /// A connection, waiting at most `DATABASE_POOL_TIMEOUT` for one.
    fn get(&self) -> Result<diesel::r2d2::PooledConnection<Manager>, diesel::r2d2::PoolError> {
        self.metrics.waiting.inc();
        let got = self.connections.get();
        self.metrics.waiting.dec();
        if got.is_err() {
            self.metrics.checkout_timeouts.inc();
        }
        got
    }

    /// Copies the pool's current sizes into its gauges (before each scrape).
    pub fn record_state(&self) {
        let state = self.connections.state();
        self.metrics.connections.set(i64::from(state.connections));
        self.metrics.idle.set(i64::from(state.idle_connections));
        self.metrics.max.set(i64::from(self.connections.max_size()));
    }
}

/// Why start-up could not get the database ready.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("Postgres at {url} did not answer within {waited:?}: {last}")]
    Unreachable {
        /// The URL as shown to people, password hidden.
        url: String,
        waited: Duration,
        last: String,
    },
    #[error(
        "Postgres at {url} refused the board's login for {waited:?}: {last}\n  \
         (a data volume made before the board had a role of its own never ran the stack's \
         init script: run it once, see README \"An existing data volume\")"
    )]
    LoginRefused {
        url: String,
        waited: Duration,
        last: String,
    },
    #[error("could not create database {name:?}: {source}")]
    Create { name: String, source: QueryError },
    #[error(
        "database {name:?} does not exist, and role {role:?} may not create it (no CREATEDB, \
         as a least-privileged role should be): create it as an administrator, or point \
         DATABASE_URL at the database made for the board"
    )]
    CannotCreate { name: String, role: String },
    #[error("could not run the migrations: {0}")]
    Migrate(String),
    #[error("could not take the migration lock: {0}")]
    Lock(QueryError),
}

/// One pooled connection, remembering whether the server went away under it.
///
/// Diesel's own r2d2 manager cannot tell a connection whose server restarted from a healthy one,
/// which leaves two poor choices: a `SELECT 1` before every checkout, or dead connections handed
/// out until each one has failed a request. Instead [`with_connection`] marks a connection lost
/// when a query fails at the connection level, and the pool drops it on return. A lost
/// connection also ends its generation: every connection opened no later than it is retired
/// when it is next checked out or returned (a counter compare, no query), because a server that
/// dropped one has almost surely dropped them all (a restart). So a restart costs one failed
/// request per replica, not one per pooled connection spread over minutes.
pub struct Connection {
    pg: PgConnection,
    lost: bool,
    /// The pool's generation when this connection was opened.
    born: u64,
}

impl std::ops::Deref for Connection {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.pg
    }
}

impl std::ops::DerefMut for Connection {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.pg
    }
}

/// Opens connections for the pool and decides which ones to throw away.
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
    generation: Arc<AtomicU64>,
}

impl Manager {
    /// True when the connection belongs to a generation that has ended.
    fn retired(&self, conn: &Connection) -> bool {
        conn.born < self.generation.load(Ordering::Acquire)
    }
}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = ConnectionError;

    fn connect(&self) -> Result<Connection, ConnectionError> {
        let born = self.generation.load(Ordering::Acquire);
        establish(&self.url).map(|pg| Connection {
            pg,
            lost: false,
            born,
        })
    }

    /// Run at every checkout, so it sends no query: it only retires connections of an ended
    /// generation (see [`Connection`]).
    fn is_valid(&self, conn: &mut Connection) -> Result<(), ConnectionError> {
        if self.retired(conn) {
            return Err(ConnectionError::BadConnection(
                "opened before the database connection was lost".into(),
            ));
        }
        Ok(())
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.lost
            || self.retired(conn)
            || std::thread::panicking()
            || AnsiTransactionManager::is_broken_transaction_manager(&mut conn.pg)
    }
}

/// What every connection is opened with unless `DATABASE_URL` says otherwise: a bounded connect
/// timeout, so an unreachable host cannot hold a thread, and TCP keep-alives and a user timeout,
/// so a connection whose peer vanished without a word (a network cut: no reset ever comes)
/// fails within seconds instead of hanging a request until the kernel gives up, minutes later.
const CONNECTION_DEFAULTS: &[(&str, &str)] = &[
    ("connect_timeout", "5"),
    ("keepalives", "1"),
    ("keepalives_idle", "5"),
    ("keepalives_interval", "2"),
    ("keepalives_count", "2"),
    ("tcp_user_timeout", "5000"),
];

/// Connects with [`CONNECTION_DEFAULTS`] added to the URL's own parameters.
fn establish(url: &DatabaseUrl) -> Result<PgConnection, ConnectionError> {
    PgConnection::establish(&with_connection_defaults(url.expose()))
}

fn with_connection_defaults(raw: &str) -> String {
    let mut url = raw.to_owned();
    for (name, value) in CONNECTION_DEFAULTS {
        if !raw.contains(&format!("{name}=")) {
            let sep = if url.contains('?') { '&' } else { '?' };
            url.push_str(&format!("{sep}{name}={value}"));
        }
    }
    url
}

/// Builds the pool without opening a connection: connections are made on demand, and a checkout
/// waits at most `pool_timeout`, so requests fail fast while Postgres is away and succeed again
/// as soon as it is back.
pub fn build_pool(settings: &Settings, metrics: PoolMetrics) -> Pool {
    let generation = Arc::new(AtomicU64::new(0));
    let connections = diesel::r2d2::Pool::builder()
        .max_size(settings.pool_size)
        // Keep one warm connection; the rest open under load and close when idle.
        .min_idle(Some(1))
        .idle_timeout(Some(Duration::from_secs(300)))
        .max_lifetime(Some(Duration::from_secs(1800)))
        .connection_timeout(settings.pool_timeout)
        // Lost connections are caught by `Connection::lost` and their generation ended,
        // instead of a query per checkout; the checkout test only compares generations.
        .test_on_check_out(true)
        .error_handler(Box::new(LogPoolErrors))
        .build_unchecked(Manager {
            url: settings.database_url.clone(),
            generation: Arc::clone(&generation),
        });
    Pool {
        connections,
        metrics,
        generation,
    }
}

#[derive(Debug)]
struct LogPoolErrors;

impl diesel::r2d2::HandleError<ConnectionError> for LogPoolErrors {
    fn handle_error(&self, error: ConnectionError) {
        tracing::warn!(%error, "could not open a database connection");
    }
}

/// Why a request's database work failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no database connection within the pool timeout")]
    Unavailable(#[from] diesel::r2d2::PoolError),
    #[error(transparent)]
    Query(#[from] QueryError),
}

impl DbError {
    /// True when the database could not be reached, as opposed to a query it refused.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            Self::Query(e) => is_connection_failure(e),
        }
    }
}

impl DbError {
    /// True when Postgres refused a write because its disk is full (SQLSTATE 53100, which
    /// Diesel does not name: its message or hint says so). Reads still work meanwhile.
    pub fn is_storage_full(&self) -> bool {
        match self {
            Self::Query(QueryError::DatabaseError(_, info)) => {
                info.message().contains("No space left on device")
                    || info.hint() == Some("Check free disk space.")
            }
            _ => false,
        }
    }
}

fn is_connection_failure(error: &QueryError) -> bool {
    matches!(
        error,
        QueryError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        )
    )
}

/// Runs blocking Diesel work on a pooled connection, marking the connection lost if the server
/// went away during it. Call it from a blocking thread (`web::block`), never an async worker.
pub fn with_connection<T>(
    pool: &Pool,
    work: impl FnOnce(&mut PgConnection) -> Result<T, QueryError>,
) -> Result<T, DbError> {
    let mut conn = pool.get()?;
    let result = work(&mut conn.pg);
    if let Err(e) = &result {
        if is_connection_failure(e) {
            tracing::warn!(
                error = %e,
                "lost a database connection; it and every connection opened before it will be replaced"
            );
            conn.lost = true;
            pool.generation.fetch_max(conn.born + 1, Ordering::AcqRel);
        }
    }
    Ok(result?)
}

/// Answers whether Postgres serves queries right now.
pub fn ping(pool: &Pool) -> Result<(), DbError> {
    with_connection(pool, |conn| conn.batch_execute("SELECT 1"))
}

/// Waits for Postgres, creates the database if missing and runs pending migrations.
///
/// Safe to run from many replicas at once: creation and migration each hold an advisory lock.
pub fn prepare(settings: &Settings) -> Result<(), StartupError> {
    let url = &settings.database_url;
    let deadline = Instant::now() + settings.startup_wait;
    let mut conn = match wait_for(url, deadline, settings.startup_wait)? {
        Some(conn) => conn,
        None => {
            let mut admin = wait_for(&url.maintenance(), deadline, settings.startup_wait)?
                .ok_or_else(|| StartupError::Create {
                    name: "postgres".into(),
                    source: QueryError::NotFound,
                })?;
            create_database(&mut admin, &url.database_name())?;
            wait_for(url, deadline, settings.startup_wait)?.ok_or_else(|| StartupError::Create {
                name: url.database_name(),
                source: QueryError::NotFound,
            })?
        }
    };
    migrate(&mut conn)
}

/// Connects with exponential back-off until `deadline`. `Ok(None)` means the server answered
/// but the database does not exist.
fn wait_for(
    url: &DatabaseUrl,
    deadline: Instant,
    budget: Duration,
) -> Result<Option<PgConnection>, StartupError> {
    let mut delay = Duration::from_millis(100);
    let mut attempt = 1u32;
    loop {
        match establish(url) {
            Ok(conn) => {
                if attempt > 1 {
                    tracing::info!(%url, attempt, "Postgres answers");
                }
                return Ok(Some(conn));
            }
            Err(e) if is_missing_database(&e) => return Ok(None),
            Err(e) => {
                let last = first_line(&e.to_string()).to_owned();
                let refused = is_refused_login(&e);
                let now = Instant::now();
                if now >= deadline {
                    return Err(if refused {
                        StartupError::LoginRefused {
                            url: url.to_string(),
                            waited: budget,
                            last,
                        }
                    } else {
                        StartupError::Unreachable {
                            url: url.to_string(),
                            waited: budget,
                            last,
                        }
                    });
                }
                let pause = delay.min(deadline - now);
                if refused {
                    tracing::warn!(
                        %url, attempt, retry_in = ?pause, error = %last,
                        "Postgres refuses the board's login: if its data volume predates the \
                         board's own role, run the stack's init script once (README)"
                    );
                } else {
                    tracing::warn!(
                        %url, attempt, retry_in = ?pause, error = %last,
                        "waiting for Postgres"
                    );
                }
                std::thread::sleep(pause);
                delay = (delay * 2).min(Duration::from_secs(2));
                attempt += 1;
            }
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

fn is_missing_database(error: &ConnectionError) -> bool {
    // libpq reports it only as text; SQLSTATE 3D000 is not exposed at connect time.
    matches!(error, ConnectionError::BadConnection(message)
        if message.contains("database") && message.contains("does not exist"))
}

/// A login the server refused (a wrong password, or a role it does not have; Postgres says the
/// same for both), as opposed to a server that is not there yet.
fn is_refused_login(error: &ConnectionError) -> bool {
    matches!(error, ConnectionError::BadConnection(message)
        if message.contains("password authentication failed")
            || (message.contains("role") && message.contains("does not exist")))
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

#[derive(QueryableByName)]
struct Role {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    may_create: bool,
}

/// Creates the database under the creation lock, unless another replica did. A role that may not
/// create databases (the stack's least-privileged one) gets a clear error instead of Postgres's
/// "permission denied".
fn create_database(admin: &mut PgConnection, name: &str) -> Result<(), StartupError> {
    let create = |source| StartupError::Create {
        name: name.to_owned(),
        source,
    };
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(CREATE_DATABASE_LOCK)
        .execute(admin)
        .map_err(create)?;
    let result = (|| {
        let found = diesel::sql_query(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists",
        )
        .bind::<Text, _>(name)
        .get_result::<Exists>(admin)
        .map_err(create)?;
        if found.exists {
            tracing::info!(database = name, "another replica created the database");
            return Ok(());
        }
        let role = diesel::sql_query(
            "SELECT rolname::text AS name, rolcreatedb OR rolsuper AS may_create \
             FROM pg_roles WHERE rolname = current_user",
        )
        .get_result::<Role>(admin)
        .map_err(create)?;
        if !role.may_create {
            return Err(StartupError::CannotCreate {
                name: name.to_owned(),
                role: role.name,
            });
        }
        admin
            .batch_execute(&format!("CREATE DATABASE {}", quote_ident(name)))
            .map_err(create)?;
        tracing::info!(database = name, "created the database");
        Ok(())
    })();
    let unlock = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(CREATE_DATABASE_LOCK)
        .execute(admin);
    result?;
    unlock.map_err(create)?;
    Ok(())
}

/// Quotes an SQL identifier, doubling embedded quotes.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Runs the pending migrations while holding the migration lock, so that replicas that start
/// together migrate one at a time and the later ones find nothing to do.
pub fn migrate(conn: &mut PgConnection) -> Result<(), StartupError> {
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(MIGRATE_LOCK)
        .execute(conn)
        .map_err(StartupError::Lock)?;
    let result = (|| {
        if !conn.has_pending_migration(MIGRATIONS)? {
            tracing::info!("the schema is up to date");
            return Ok(());
        }
        for version in conn.run_pending_migrations(MIGRATIONS)? {
            tracing::info!(%version, "applied migration");
        }
        Ok(())
    })()
    .map_err(|e: Box<dyn std::error::Error + Send + Sync>| StartupError::Migrate(e.to_string()));
    let unlock = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(MIGRATE_LOCK)
        .execute(conn)
        .map_err(StartupError::Lock);
    result?;
    unlock?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_told_apart_from_other_refusals() {
        let refused = |message: &str| {
            DbError::Query(QueryError::DatabaseError(
                DatabaseErrorKind::Unknown,
                Box::new(message.to_owned()),
            ))
        };
        let full = refused("could not extend file \"base/16384/16390\": No space left on device");
        assert!(full.is_storage_full() && !full.is_unavailable());
        let other = refused("permission denied for table comments");
        assert!(!other.is_storage_full());
    }

    #[test]
    fn a_refused_login_is_told_apart_from_an_absent_server() {
        let refused = ConnectionError::BadConnection(
            "connection to server at \"postgres\" (172.18.0.2), port 5432 failed: FATAL:  \
             password authentication failed for user \"board_app\""
                .into(),
        );
        let absent = ConnectionError::BadConnection("Connection refused".into());
        assert!(is_refused_login(&refused));
        assert!(!is_refused_login(&absent));
    }

    #[test]
    fn connections_get_timeouts_unless_the_url_sets_them() {
        assert_eq!(
            with_connection_defaults("postgres://u@db/board?connect_timeout=1"),
            "postgres://u@db/board?connect_timeout=1&keepalives=1&keepalives_idle=5\
             &keepalives_interval=2&keepalives_count=2&tcp_user_timeout=5000"
        );
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("board"), "\"board\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn a_missing_database_is_told_apart_from_an_unreachable_server() {
        let missing = ConnectionError::BadConnection(
            "connection to server at \"db\" failed: FATAL:  database \"board\" does not exist"
                .into(),
        );
        let refused = ConnectionError::BadConnection("Connection refused".into());
        assert!(is_missing_database(&missing));
        assert!(!is_missing_database(&refused));
    }
}
