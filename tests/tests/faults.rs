//! The stack under faults (issue 15): each case runs the counted load (`e2e::load`) through
//! nginx's published port, brings one fault about, ends it, lets the load run on, and counts:
//! requests, failures, acknowledged comments lost, and the time from the fault's end to the last
//! failed request (recovery). The administrator's `psql` must connect during or after each
//! case. Every case prints one row of the table in docs/benchmarks.md (`--nocapture`).
//!
//! The bounds asserted are generous on purpose (the targets, 5 s and few failures, are what the
//! figures are compared with): they catch a board that loses a comment, locks the
//! administrator out or does not recover, not a slow machine.
//!
//! Run: `flock /tmp/engine.lock cargo test -p e2e --test faults -- --nocapture`.

use std::{
    io::Write,
    net::TcpStream,
    process::Command,
    time::{Duration, Instant},
};

use e2e::{
    docker,
    load::{Load, Report, UNLIMITED_POSTS},
    text, DbUser, Stack,
};

/// Users of the load in each case (the measurement had 8 writers).
const USERS: usize = 8;
/// The load runs this long before each fault, so the fault meets a board in its stride.
const BEFORE: Duration = Duration::from_secs(3);
/// After the fault ends and the board answers again, the load runs this much longer; the last
/// failure must come at least `CLEAN_TAIL` before the load stops (the board did recover).
const AFTER: Duration = Duration::from_secs(8);
const CLEAN_TAIL: Duration = Duration::from_secs(4);
/// The generous bound on recovery (the target is 5 s).
const RECOVERY_BOUND: Duration = Duration::from_secs(30);
/// Slow clients at once: more than nginx's two workers' 1,024 connections each.
const SLOW_CLIENTS: usize = 3000;
/// Each replica's pool on the shared stack: 12 replicas x 6 = 72, within the role's 80.
const POOL: &str = "6";

/// What one case met.
struct Outcome {
    case: &'static str,
    report: Report,
    lost: Vec<String>,
    recovery: Duration,
    admin: Result<String, String>,
}

impl Outcome {
    /// The case's row of the table in docs/benchmarks.md.
    fn row(&self) -> String {
        // From the first failed request to the last: how long users saw the fault.
        let visible = match (self.report.failures.first(), self.report.failures.last()) {
            (Some(first), Some(last)) => last.at - first.at,
            _ => Duration::ZERO,
        };
        format!(
            "| {} | {} | {} | {:.1} s | {} | {} | {} | {:.1} s | {} |",
            self.case,
            self.report.requests,
            self.report.failures.len(),
            visible.as_secs_f64(),
            self.report.slow,
            self.report.acknowledged.len(),
            self.lost.len(),
            self.recovery.as_secs_f64(),
            if self.admin.is_ok() { "yes" } else { "NO" },
        )
    }

    /// What must hold in every case; `max_failures` is the case's generous bound.
    fn check(&self, max_failures: usize) {
        let r = &self.report;
        eprintln!("{}\n  {}", self.row(), r.summary());
        assert!(
            self.lost.is_empty(),
            "{}: {} acknowledged comments lost: {:?}",
            self.case,
            self.lost.len(),
            &self.lost[..self.lost.len().min(5)]
        );
        assert!(
            self.admin.is_ok(),
            "{}: the administrator could not connect: {:?}",
            self.case,
            self.admin
        );
        assert!(
            r.acknowledged.len() > 10,
            "{}: the load got through: {}",
            self.case,
            r.summary()
        );
        assert!(
            r.failures.len() <= max_failures,
            "{}: {} failures, more than {max_failures}: {}",
            self.case,
            r.failures.len(),
            r.summary()
        );
        assert!(
            self.recovery <= RECOVERY_BOUND,
            "{}: the last failure came {:?} after the fault ended",
            self.case,
            self.recovery
        );
        if let Some(last) = r.last_failure() {
            assert!(
                last + CLEAN_TAIL <= r.elapsed,
                "{}: still failing when the load stopped (last failure at {last:?} of {:?})",
                self.case,
                r.elapsed
            );
        }
    }
}

/// Runs `users` of load, then `fault` (which returns once the fault has ended), waits for the
/// board to answer again, runs `AFTER` more, and counts.
fn under_load(stack: &Stack, case: &'static str, users: usize, fault: impl FnOnce()) -> Outcome {
    let base = stack.url("");
    let load = Load::start(&base, users);
    std::thread::sleep(BEFORE);
    fault();
    let ended = load.elapsed();
    stack.wait_until_served();
    std::thread::sleep(AFTER);
    let report = load.stop();
    let lost = report.lost(&base);
    let recovery = report
        .last_failure()
        .map_or(Duration::ZERO, |at| at.saturating_sub(ended));
    let admin = stack.psql(DbUser::Admin, "SELECT 1");
    Outcome {
        case,
        report,
        lost,
        recovery,
        admin,
    }
}

fn pid(container: &str) -> String {
    docker(&["inspect", "-f", "{{.State.Pid}}", container])
}

fn restarts(container: &str) -> u32 {
    docker(&["inspect", "-f", "{{.RestartCount}}", container])
        .parse()
        .unwrap_or(0)
}

/// SIGKILLs a container's main process from outside, as a crash would (`docker kill` counts as
/// a manual stop, which the restart policy respects), and waits until the policy restarted it.
fn crash(stack: &Stack, container: &str) {
    let before = restarts(container);
    let pid = pid(container);
    let killed = Command::new("kill").args(["-9", &pid]).status().unwrap();
    assert!(killed.success(), "kill -9 {pid} (the tests run as root)");
    stack.eventually(
        &format!("{container} restarted by its policy"),
        Duration::from_secs(60),
        || {
            restarts(container) > before
                && docker(&["inspect", "-f", "{{.State.Running}}", container]) == "true"
        },
    );
}

fn docker_ok(args: &[&str]) {
    let out = Command::new("docker").args(args).output().unwrap();
    assert!(out.status.success(), "docker {args:?}: {}", text(&out));
}

/// Counts lines of Postgres's log that contain `needle`.
fn postgres_log_count(stack: &Stack, needle: &str) -> usize {
    let out = Command::new("docker")
        .args(["logs", &stack.container("postgres", 1)])
        .output()
        .unwrap();
    text(&out).matches(needle).count()
}

/// Slow clients: `n` connections to nginx on 127.0.0.1, each sending a request's headers a
/// line every few seconds and never finishing them, for `hold`.
fn slowloris(port: u16, n: usize, hold: Duration) -> usize {
    let mut open: Vec<TcpStream> = (0..n)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    for s in &mut open {
        let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    }
    let held = open.len();
    let until = Instant::now() + hold;
    while Instant::now() < until {
        std::thread::sleep(Duration::from_secs(4));
        open.retain_mut(|s| s.write_all(b"X-Slow: 1\r\n").is_ok());
    }
    held
}

#[test]
fn the_stack_under_faults_loses_nothing_and_recovers() {
    let mut env: Vec<(&str, &str)> = UNLIMITED_POSTS.to_vec();
    env.push(("DATABASE_POOL_SIZE", POOL));
    let stack = Stack::up_with("faults", &env);
    stack.scale("app", 2);
    // The stack's init script made the app's role: the app logs in as it, and it is no
    // superuser and cannot drop a database or make roles.
    assert_eq!(
        stack.psql(
            DbUser::Admin,
            "SELECT usename || ' ' || usesuper FROM pg_stat_activity JOIN pg_user USING (usename) \
             WHERE application_name = '' AND usename <> current_user LIMIT 1"
        ),
        Ok("board_app false".into()),
        "the app is connected, as its own role"
    );
    for sql in ["DROP DATABASE postgres", "CREATE ROLE intruder"] {
        assert!(
            stack.psql(DbUser::App, sql).is_err(),
            "the app's role may {sql}"
        );
    }
    eprintln!(
        "| case | requests | failed | failing for | slower than 2 s | acknowledged | lost | recovery | admin connects |"
    );
    eprintln!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    let postgres = stack.container("postgres", 1);
    let app = stack.container("app", 1);
    let nginx = stack.container("nginx", 1);

    under_load(
        &stack,
        "Postgres SIGKILLed, restarted by its policy",
        USERS,
        || crash(&stack, &postgres),
    )
    .check(400);

    under_load(&stack, "Postgres restarted cleanly", USERS, || {
        docker_ok(&["restart", "-t", "10", &postgres])
    })
    .check(400);

    under_load(&stack, "an app replica SIGKILLed", USERS, || {
        crash(&stack, &app)
    })
    .check(100);

    let mut during = Ok(String::new());
    let paused = under_load(&stack, "an app replica paused 20 s", USERS, || {
        docker_ok(&["pause", &app]);
        std::thread::sleep(Duration::from_secs(10));
        during = stack.psql(DbUser::Admin, "SELECT 1");
        std::thread::sleep(Duration::from_secs(10));
        docker_ok(&["unpause", &app]);
    });
    assert!(during.is_ok(), "admin during the pause: {during:?}");
    paused.check(200);

    // Postgres off the project's network: every replica is cut off from it, nginx still
    // reaches them. Reconnected under the same aliases, so `postgres` resolves again.
    let network = format!("{}_default", stack.project);
    let aliases: Vec<String> = serde_json::from_str::<serde_json::Value>(&docker(&[
        "inspect",
        "-f",
        &format!("{{{{json (index .NetworkSettings.Networks \"{network}\").Aliases}}}}"),
        &postgres,
    ]))
    .ok()
    .and_then(|v| v.as_array().cloned())
    .unwrap_or_default()
    .iter()
    .filter_map(|a| a.as_str().map(str::to_owned))
    .collect();
    let mut during = Ok(String::new());
    let cut = under_load(&stack, "the app cut off from Postgres 10 s", USERS, || {
        docker_ok(&["network", "disconnect", &network, &postgres]);
        std::thread::sleep(Duration::from_secs(5));
        during = stack.psql(DbUser::Admin, "SELECT 1");
        std::thread::sleep(Duration::from_secs(5));
        let mut connect = vec!["network", "connect"];
        for alias in &aliases {
            connect.extend(["--alias", alias]);
        }
        connect.extend([network.as_str(), postgres.as_str()]);
        docker_ok(&connect);
    });
    assert!(during.is_ok(), "admin during the cut: {during:?}");
    cut.check(1500);

    under_load(&stack, "nginx restarted", USERS, || {
        docker_ok(&["restart", "-t", "10", &nginx])
    })
    .check(200);

    let mut held = 0;
    let mut during = Ok(String::new());
    let slow = under_load(&stack, "3,000 slow clients held 20 s", USERS, || {
        let port = stack.port;
        let clients =
            std::thread::spawn(move || slowloris(port, SLOW_CLIENTS, Duration::from_secs(20)));
        std::thread::sleep(Duration::from_secs(10));
        during = stack.psql(DbUser::Admin, "SELECT 1");
        held = clients.join().unwrap();
    });
    assert!(during.is_ok(), "admin during the slow clients: {during:?}");
    assert!(
        held >= 900,
        "the slow clients got their connections: {held}"
    );
    slow.check(400);

    // Twelve replicas. With each replica's pool at 10 they would need 120 connections: `up`
    // refuses before changing anything.
    let refused = stack.orchestrator_with(
        &["up", "-d", "--scale", "app=12"],
        &[("DATABASE_POOL_SIZE", "10")],
    );
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        text(&refused)
            .contains("needs 120 postgres-connections (app: 12 x 10), more than its limit of 80"),
        "{}",
        text(&refused)
    );
    let replicas = || {
        docker(&[
            "ps",
            "-q",
            "--filter",
            &format!("label=com.docker.compose.project={}", stack.project),
            "--filter",
            "label=com.docker.compose.service=app",
        ])
        .lines()
        .count()
    };
    assert_eq!(replicas(), 2, "the refused scale changed nothing");
    stack.scale("app", 12);
    assert_eq!(replicas(), 12);
    let mut admin_during = Vec::new();
    let mut peak = 0;
    let twelve = under_load(&stack, "12 replicas, 64 users", 64, || {
        for _ in 0..4 {
            std::thread::sleep(Duration::from_secs(5));
            admin_during.push(stack.psql(DbUser::Admin, "SELECT 1"));
            if let Ok(n) = stack.psql(
                DbUser::Admin,
                "SELECT count(*) FROM pg_stat_activity WHERE usename = 'board_app'",
            ) {
                peak = peak.max(n.parse::<u32>().unwrap_or(0));
            }
        }
    });
    let too_many_clients = postgres_log_count(&stack, "too many clients");
    let role_limit = postgres_log_count(&stack, "too many connections for role");
    eprintln!(
        "  12 replicas: {peak} connections of the app's role at the most seen, \
         {too_many_clients} \"too many clients\", {role_limit} \"too many connections for role\""
    );
    assert!(
        admin_during.iter().all(Result::is_ok),
        "admin during 12 replicas: {admin_during:?}"
    );
    assert_eq!(too_many_clients, 0, "Postgres refused clients");
    // 12 x 6 at most: no connection left over from earlier faults (the network cut leaves
    // backends whose clients vanished; the role's server-side keep-alives end them).
    assert!(peak <= 72, "at most 12 pools of 6: {peak}");
    twelve.check(400);
}

/// The database's volume full: a tmpfs volume of the project's own, filled up. Writes get a
/// clear 503, reads go on, and once space is freed writes succeed again, nothing lost.
#[test]
fn a_full_database_volume_refuses_writes_clearly_and_keeps_serving_reads() {
    let stack = Stack::up_prepared("full", UNLIMITED_POSTS, |stack| {
        // Made before `up`, with the project's labels: `up` uses it as the stack's pgdata, and
        // teardown removes it with the rest.
        docker_ok(&[
            "volume",
            "create",
            "--driver",
            "local",
            "--opt",
            "type=tmpfs",
            "--opt",
            "device=tmpfs",
            "--opt",
            "o=size=96m",
            "--label",
            &format!("com.docker.compose.project={}", stack.project),
            "--label",
            "com.docker.compose.volume=pgdata",
            &format!("{}_pgdata", stack.project),
        ]);
    });
    let postgres = stack.container("postgres", 1);
    // A fresh WAL segment first, so the log has room to go on while the data files have none.
    stack
        .psql(DbUser::Admin, "CHECKPOINT; SELECT pg_switch_wal()")
        .expect("admin connects");
    let mut during = Vec::new();
    let outcome = under_load(&stack, "the Postgres volume full 15 s", USERS, || {
        // dd stops at ENOSPC (exit 1): that is the point.
        let _ = Command::new("docker")
            .args(["exec", &postgres, "dd", "if=/dev/zero"])
            .arg("of=/var/lib/postgresql/data/filler")
            .args(["bs=1M", "status=none"])
            .output();
        let c = reqwest::blocking::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        // Posts of incompressible text until one is refused: the heap or its TOAST table must
        // grow, and cannot.
        let page = c.get(stack.url("/")).send().unwrap().text().unwrap();
        let marker = "name=\"csrf_token\" value=\"";
        let start = page.find(marker).unwrap() + marker.len();
        let token = page[start..start + 64].to_owned();
        let mut seed = 0x2545_f491_u64;
        let mut refused = None;
        for n in 0..200 {
            let body: String = (0..9000)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    char::from(b'a' + (seed % 26) as u8)
                })
                .collect();
            let r = c
                .post(stack.url("/"))
                .header("Origin", stack.url(""))
                .form(&[
                    ("title", format!("filler-{n}").as_str()),
                    ("author", "full"),
                    ("text", &body),
                    ("csrf_token", &token),
                ])
                .send()
                .unwrap();
            if r.status() != 303 {
                refused = Some((r.status(), r.text().unwrap_or_default()));
                break;
            }
        }
        let (status, page) = refused.expect("a write is refused once the volume is full");
        assert_eq!(status, 503, "{page}");
        assert!(page.contains("out of disk space"), "{page}");
        let read = c.get(stack.url("/")).send().unwrap();
        during.push(read.status().as_u16());
        during.push(
            stack
                .psql(DbUser::Admin, "SELECT 1")
                .map(|_| 200)
                .unwrap_or(0),
        );
        std::thread::sleep(Duration::from_secs(15));
        let read = c.get(stack.url("/")).send().unwrap();
        during.push(read.status().as_u16());
        docker_ok(&["exec", &postgres, "rm", "/var/lib/postgresql/data/filler"]);
    });
    assert_eq!(
        during,
        [200, 200, 200],
        "reads and the administrator while full"
    );
    // Writes fail while the volume is full (the bound is the load's whole rate); reads never.
    let not_a_refused_write: Vec<_> = outcome
        .report
        .failures
        .iter()
        .filter(|f| f.method != "POST" || !f.what.starts_with("503"))
        .collect();
    assert!(
        not_a_refused_write.is_empty(),
        "only writes fail, with a 503: {not_a_refused_write:?}"
    );
    outcome.check(usize::MAX);
}
