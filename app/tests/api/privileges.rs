//! The board under the stack's least-privileged role, made by the stack's own init script
//! (`app/initdb/10-board-role.sh`, run here as Postgres's entrypoint runs it): the board
//! works (on a database the administrator had migrated before, too: nothing is lost), and the
//! role can do nothing beyond its own schema.

use std::{path::Path, process::Command};

use app::db::{self, StartupError};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

use crate::helpers::{
    admin_url, spawn_app_at, test_settings, unique_db_name, url_for, DropDatabase,
};

/// Drops a role when dropped (after the databases it had rights in are gone).
struct DropRole {
    server_url: String,
    name: String,
}

impl Drop for DropRole {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&url_for(&self.server_url, "postgres")) {
            let _ = diesel::sql_query(format!("DROP ROLE IF EXISTS \"{}\"", self.name))
                .execute(&mut admin);
        }
    }
}

/// Runs the stack's init script against `database` of the test server, as its administrator.
fn run_init_script(server_url: &str, database: &str, role: &str) {
    let url = url::Url::parse(server_url).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("initdb/10-board-role.sh");
    let out = Command::new(script)
        .env("PGHOST", url.host_str().unwrap())
        .env("PGPORT", url.port().unwrap_or(5432).to_string())
        .env("PGPASSWORD", url.password().unwrap_or(""))
        .env("POSTGRES_USER", url.username())
        .env("POSTGRES_DB", database)
        .env("APP_DB_USER", role)
        .env("APP_DB_PASSWORD", "role-test-password")
        .env("APP_DB_CONNECTION_LIMIT", "7")
        .output()
        .expect("the init script runs (psql is installed with the test server)");
    assert!(
        out.status.success(),
        "the init script failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn role_url(server_url: &str, role: &str, database: &str) -> String {
    let mut url = url::Url::parse(&url_for(server_url, database)).unwrap();
    url.set_username(role).unwrap();
    url.set_password(Some("role-test-password")).unwrap();
    url.to_string()
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Rights {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    rolsuper: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    rolcreatedb: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    rolcreaterole: bool,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    rolconnlimit: i32,
    #[diesel(sql_type = diesel::sql_types::Text)]
    schema_owner: String,
}

#[tokio::test]
async fn the_board_runs_as_its_own_role_which_can_do_nothing_else() {
    let server = admin_url();
    let name = unique_db_name();
    let role = format!("{name}_app");
    let _role = DropRole {
        server_url: server.clone(),
        name: role.clone(),
    };
    let database = DropDatabase {
        server_url: server.clone(),
        name: name.clone(),
    };
    let mut admin = PgConnection::establish(&url_for(&server, "postgres")).unwrap();
    diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .unwrap();
    // A volume made before the board had its own role: the app, as the administrator, migrated
    // into `public` and stored a comment there.
    let old_settings = test_settings(&url_for(&server, &name), &[]);
    tokio::task::spawn_blocking(move || db::prepare(&old_settings))
        .await
        .unwrap()
        .expect("the administrator migrates");
    let mut old = PgConnection::establish(&url_for(&server, &name)).unwrap();
    diesel::sql_query(
        "INSERT INTO public.comments (title, author, body) VALUES ('from-before', 'Old', 'kept')",
    )
    .execute(&mut old)
    .unwrap();
    drop(old);
    run_init_script(&server, &name, &role);
    // Idempotent: running it again changes nothing that matters.
    run_init_script(&server, &name, &role);

    // The board, migrated and served by the role: its tables land in the role's schema.
    let url = role_url(&server, &role, &name);
    let app = spawn_app_at(&url, database, &[]).await;
    assert_eq!(
        app.post_comment("least", "Ann", "privilege").await.status(),
        303
    );
    let page = app.get("/").await.text().await.unwrap();
    assert!(page.contains("least") && page.contains("privilege"));
    assert!(
        page.contains("from-before"),
        "the comment stored before the role existed moved with its table"
    );

    let mut conn = PgConnection::establish(&url).unwrap();
    let rights = diesel::sql_query(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolconnlimit, \
                (SELECT pg_get_userbyid(c.relowner)::text FROM pg_class c \
                  JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relname = 'comments' AND n.nspname = current_user) AS schema_owner \
           FROM pg_roles WHERE rolname = current_user",
    )
    .get_result::<Rights>(&mut conn)
    .unwrap();
    assert_eq!(
        rights,
        Rights {
            rolsuper: false,
            rolcreatedb: false,
            rolcreaterole: false,
            rolconnlimit: 7,
            schema_owner: role.clone(),
        }
    );
    for (what, sql) in [
        ("drop a database", "DROP DATABASE postgres".to_owned()),
        ("drop its own database", format!("DROP DATABASE \"{name}\"")),
        ("create a role", "CREATE ROLE intruder".to_owned()),
        ("create a database", "CREATE DATABASE intruder".to_owned()),
        (
            "create in public",
            "CREATE TABLE public.intruder (x int)".to_owned(),
        ),
        (
            "read the server's files",
            "SELECT pg_read_file('PG_VERSION')".to_owned(),
        ),
    ] {
        let refused = diesel::sql_query(&sql).execute(&mut conn);
        assert!(refused.is_err(), "the board's role could {what}: {sql}");
    }

    // A missing database: the role may not create it, and start-up says so plainly.
    let missing = role_url(&server, &role, &format!("{name}_missing"));
    let settings = test_settings(&missing, &[("STARTUP_WAIT", "5s")]);
    let err = tokio::task::spawn_blocking(move || db::prepare(&settings))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(&err, StartupError::CannotCreate { role: r, .. } if *r == role),
        "{err}"
    );
    drop(conn);
    drop(admin);
}
