//! `spawn_app` and friends: each test gets the real application on a random port, backed by a
//! database of its own that is dropped when the test ends, pass or fail.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::Once,
    time::{Duration, Instant},
};

use app::{
    config::Settings,
    db,
    startup::{Application, ApplicationHandle},
    telemetry,
};
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::{redirect::Policy, Response};

/// The server every test's database lives on.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").expect(
        "TEST_DATABASE_URL must name a Postgres superuser URL (scripts/test starts a server)",
    )
}

/// The same server, database `name`.
pub fn url_for(server_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(server_url).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// A database name no other test uses.
pub fn unique_db_name() -> String {
    format!("board_test_{}", uuid::Uuid::new_v4().simple())
}

/// The board's `static/` folder, at the workspace root.
pub fn static_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../static")
}

/// Settings for a test instance: loopback, port 0, a small pool that gives up quickly, the
/// default post limits. `extra` adds or overrides variables.
pub fn test_settings(database_url: &str, extra: &[(&str, &str)]) -> Settings {
    let static_dir = static_dir();
    let mut vars: Vec<(&str, String)> = extra.iter().map(|(k, v)| (*k, v.to_string())).collect();
    vars.extend([
        ("DATABASE_URL", database_url.to_owned()),
        ("LISTEN_ADDR", "127.0.0.1:0".to_owned()),
        ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
        ("DATABASE_POOL_SIZE", "4".to_owned()),
        ("DATABASE_POOL_TIMEOUT", "1s".to_owned()),
        ("STARTUP_WAIT", "20s".to_owned()),
        ("HTTP_WORKERS", "1".to_owned()),
        ("STATIC_DIR", static_dir.display().to_string()),
    ]);
    Settings::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("test settings are valid")
}

/// Drops a database when dropped, even if the test panicked.
pub struct DropDatabase {
    pub server_url: String,
    pub name: String,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let Ok(mut admin) = PgConnection::establish(&url_for(&self.server_url, "postgres")) else {
            return; // the server is gone (a private cluster already stopped)
        };
        let _ = diesel::sql_query(format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ))
        .execute(&mut admin);
    }
}

/// A running board and a client that keeps cookies and does not follow redirects.
pub struct TestApp {
    pub address: String,
    /// `http://127.0.0.1:PORT` of the metrics listener.
    pub metrics_address: String,
    pub database_url: String,
    pub client: reqwest::Client,
    handle: ApplicationHandle,
    _database: DropDatabase,
}

/// `TEST_LOG=1 cargo test ...` shows the app's logs (`RUST_LOG` and `LOG_FORMAT` apply);
/// without it the tests stay quiet.
fn init_logs() {
    static LOGS: Once = Once::new();
    LOGS.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let format = std::env::var("LOG_FORMAT")
                .ok()
                .and_then(|f| f.parse().ok())
                .unwrap_or_default();
            telemetry::init(format);
        }
    });
}

/// Starts the board on a fresh database of the shared test server.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&admin_url(), &[]).await
}

/// Starts the board on a fresh database of the server at `server_url`.
pub async fn spawn_app_on(server_url: &str) -> TestApp {
    spawn_app_with(server_url, &[]).await
}

/// Starts the board with extra settings (`[("POST_LIMIT_BURST", "2")]`) on a fresh database.
pub async fn spawn_app_with(server_url: &str, extra: &[(&str, &str)]) -> TestApp {
    let name = unique_db_name();
    let database = DropDatabase {
        server_url: server_url.to_owned(),
        name: name.clone(),
    };
    let database_url = url_for(server_url, &name);
    spawn_app_at(&database_url, database, extra).await
}

/// Starts the board on `database_url` (created if missing, as start-up does), which `database`
/// drops when the app goes.
pub async fn spawn_app_at(
    database_url: &str,
    database: DropDatabase,
    extra: &[(&str, &str)],
) -> TestApp {
    init_logs();
    let database_url = database_url.to_owned();
    let settings = test_settings(&database_url, extra);
    let prepare = settings.clone();
    tokio::task::spawn_blocking(move || db::prepare(&prepare))
        .await
        .unwrap()
        .expect("the database is prepared");
    let application = Application::build(&settings).expect("the app binds");
    let address = format!("http://127.0.0.1:{}", application.port());
    let metrics_address = format!(
        "http://127.0.0.1:{}",
        application.metrics_port().expect("a metrics listener")
    );
    let handle = application.handle();
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        metrics_address,
        database_url,
        client: client(),
        handle,
        _database: database,
    }
}

/// A client as a browser would be for these tests: cookies kept, redirects shown, not followed.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting at once; the database guard then drops the database.
        let handle = self.handle.clone();
        drop(tokio::spawn(async move { handle.stop(false).await }));
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("GET succeeds")
    }

    /// Loads the page (which sets the CSRF cookie) and returns the token in its form.
    pub async fn csrf_token(&self) -> String {
        let html = self.get("/").await.text().await.unwrap();
        extract_token(&html)
    }

    /// Posts the form the way a browser does after loading the page.
    pub async fn post_form(&self, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf_token().await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", &token));
        self.client
            .post(format!("{}/", self.address))
            .header("Sec-Fetch-Site", "same-origin")
            .form(&form)
            .send()
            .await
            .expect("POST succeeds")
    }

    /// Posts a complete, valid comment through the form.
    pub async fn post_comment(&self, title: &str, author: &str, text: &str) -> Response {
        self.post_form(&[("title", title), ("author", author), ("text", text)])
            .await
    }

    /// Posts JSON to the API.
    pub async fn post_api(&self, body: &serde_json::Value) -> Response {
        self.client
            .post(format!("{}/api/comments", self.address))
            .json(body)
            .send()
            .await
            .expect("POST succeeds")
    }

    /// Runs SQL on the test's database (for seeding many rows at once).
    pub fn sql(&self, statement: &str) -> usize {
        let mut conn = PgConnection::establish(&self.database_url).unwrap();
        diesel::sql_query(statement).execute(&mut conn).unwrap()
    }

    /// How many comments the database holds.
    pub fn count_comments(&self) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = PgConnection::establish(&self.database_url).unwrap();
        diesel::sql_query("SELECT count(*) AS n FROM comments")
            .get_result::<Count>(&mut conn)
            .unwrap()
            .n
    }
}

/// The CSRF token in a rendered form.
pub fn extract_token(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("the form carries a CSRF token") + marker.len();
    html[start..start + 64].to_owned()
}

/// A free TCP port on loopback (bound, read, released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `url` until it answers `status` or `timeout` passes; returns whether it did.
pub async fn wait_for_status(url: &str, status: u16, timeout: Duration) -> bool {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(r) = client.get(url).send().await {
            if r.status().as_u16() == status {
                return true;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// A Postgres cluster of the test's own, which the test may stop and start again: the shared
/// server must never go down under the other tests.
pub struct PrivatePostgres {
    dir: tempfile::TempDir,
    pub port: u16,
    bindir: PathBuf,
}

impl PrivatePostgres {
    /// Initialises a cluster in a temporary folder; `start` it when the test wants it up.
    pub fn init() -> Self {
        let bindir = std::env::var("PG_BINDIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                let out = Command::new("pg_config")
                    .arg("--bindir")
                    .output()
                    .expect("pg_config is installed (postgresql server packages)");
                PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
            });
        let dir = tempfile::Builder::new()
            .prefix("board-pg-")
            .tempdir()
            .unwrap();
        let cluster = Self {
            dir,
            port: free_port(),
            bindir,
        };
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(cluster.dir.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown of the cluster folder");
        }
        cluster.pg(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        cluster
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// A Postgres program, run as the `postgres` user when we are root (Postgres refuses root).
    fn command(&self, program: &str) -> Command {
        let path = self.bindir.join(program);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        }
    }

    fn pg(&self, program: &str, args: &[&str]) {
        let out = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{program} runs: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        self.pg(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    /// Stops the server at once, cutting every connection (as a crash or a kill would).
    pub fn stop(&self) {
        self.pg(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }

    /// The superuser URL of this cluster.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}
