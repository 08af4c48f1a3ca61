//! A compose health check as probes. Compose has one check that decides "healthy"; Kubernetes
//! asks two questions of it: ready (take traffic, let dependents start) and live (else
//! restart). Both get the same check. `start_period` becomes a startup probe, so neither counts
//! failures while the service starts, as in Compose.
//!
//! The check runs as written (an exec probe), except a plain HTTP GET of the container's own
//! port (`curl -f http://localhost:8000/health`, `wget -q --spider http://127.0.0.1/`), which
//! becomes an HTTP probe: the kubelet asks, and the image needs no curl.

use std::time::Duration;

use k8s_openapi::{
    api::core::v1::{ExecAction, HTTPGetAction, Probe},
    apimachinery::pkg::util::intstr::IntOrString,
};

use crate::project::{model::Healthcheck, units::shell_words};

/// The probes a health check becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct Probes {
    /// Only with a `start_period`: holds the other two back until the service has started.
    pub startup: Option<Probe>,
    /// Traffic and dependents wait for it.
    pub readiness: Probe,
    /// The kubelet restarts the container when it fails.
    pub liveness: Probe,
}

/// Whole seconds, rounded up, at least one.
fn seconds(d: Duration) -> i32 {
    d.as_secs_f64().ceil().clamp(1.0, i32::MAX as f64) as i32
}

/// The probes for `check` in a container that listens on `ports`; `None` when the check is
/// disabled.
pub fn probes(check: &Healthcheck, ports: &[u16]) -> Option<Probes> {
    if check.is_disabled() || check.test.is_empty() {
        return None;
    }
    let base = action(&check.test, ports);
    let period = seconds(check.interval_or_default());
    let retries = check.retries_or_default().clamp(1, i32::MAX as u32) as i32;
    let timed = |period: i32, failures: i32| Probe {
        period_seconds: Some(period),
        timeout_seconds: Some(seconds(check.timeout_or_default())),
        failure_threshold: Some(failures),
        ..base.clone()
    };
    let start_period = check.start_period_or_default();
    let startup = (!start_period.is_zero()).then(|| {
        let period = check.start_interval.map_or(period, seconds);
        let during = (start_period.as_secs_f64() / f64::from(period)).ceil() as i32;
        timed(period, during.saturating_add(retries))
    });
    Some(Probes {
        startup,
        readiness: timed(period, retries),
        liveness: timed(period, retries),
    })
}

/// The probe's action: an HTTP GET where the check is one, else the command as written.
fn action(test: &[String], ports: &[u16]) -> Probe {
    let words = match test.first().map(String::as_str) {
        Some("CMD") => Some(test[1..].to_vec()),
        Some("CMD-SHELL") => test.get(1).and_then(|s| shell_words(s).ok()),
        _ => None,
    };
    if let Some((port, path)) = words.as_deref().and_then(http_get) {
        if ports.contains(&port) {
            return Probe {
                http_get: Some(HTTPGetAction {
                    port: IntOrString::Int(i32::from(port)),
                    path: Some(path),
                    ..HTTPGetAction::default()
                }),
                ..Probe::default()
            };
        }
    }
    let command = match test.first().map(String::as_str) {
        Some("CMD-SHELL") => vec!["/bin/sh".into(), "-c".into(), test[1..].join(" ")],
        _ => test[1..].to_vec(),
    };
    Probe {
        exec: Some(ExecAction {
            command: Some(command),
        }),
        ..Probe::default()
    }
}

/// The port and path of a command that only GETs a local URL and fails on an HTTP error:
/// `curl` with `-f`, or `wget` (which fails on errors by itself).
pub fn http_get(words: &[String]) -> Option<(u16, String)> {
    let (program, rest) = words.split_first()?;
    let mut url = None;
    let mut fails = program == "wget";
    for word in rest {
        let flag_ok = match program.as_str() {
            "curl" => {
                let letters = word.strip_prefix('-').filter(|l| !l.starts_with('-'));
                if letters.is_some_and(|l| l.contains('f')) || word == "--fail" {
                    fails = true;
                }
                letters.is_some_and(|l| !l.is_empty() && l.chars().all(|c| "fsSL".contains(c)))
                    || ["--fail", "--silent", "--show-error", "--location"].contains(&word.as_str())
            }
            "wget" => [
                "-q",
                "--quiet",
                "--spider",
                "-O-",
                "-qO-",
                "-O",
                "-qO",
                "/dev/null",
                "-",
            ]
            .contains(&word.as_str()),
            _ => return None,
        };
        if flag_ok {
            continue;
        }
        if url.is_some() {
            return None;
        }
        url = Some(word.as_str());
    }
    if !fails {
        return None;
    }
    let rest = url?.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()?),
        None => (authority, 80),
    };
    ["localhost", "127.0.0.1"]
        .contains(&host)
        .then(|| (port, path.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        shell_words(s).unwrap()
    }

    fn check(test: &[&str], start_period: u64) -> Healthcheck {
        Healthcheck {
            test: test.iter().map(|s| s.to_string()).collect(),
            interval: Some(Duration::from_secs(2)),
            timeout: Some(Duration::from_millis(2500)),
            retries: Some(3),
            start_period: Some(Duration::from_secs(start_period)),
            start_interval: None,
        }
    }

    #[test]
    fn plain_local_http_gets_are_recognized() {
        let get = |s| http_get(&words(s));
        assert_eq!(
            get("curl -fsS http://localhost:8000/healthz"),
            Some((8000, "/healthz".into()))
        );
        assert_eq!(get("curl --fail http://127.0.0.1/"), Some((80, "/".into())));
        assert_eq!(
            get("wget -q --spider http://localhost:9090"),
            Some((9090, "/".into()))
        );
    }

    #[test]
    fn anything_more_than_a_plain_get_stays_a_command() {
        let get = |s| http_get(&words(s));
        assert_eq!(
            get("curl http://localhost:8000/"),
            None,
            "no -f: succeeds on a 500"
        );
        assert_eq!(
            get("curl -f http://example.com/"),
            None,
            "not the container itself"
        );
        assert_eq!(get("curl -f -X POST http://localhost/"), None);
        assert_eq!(get("curl -f https://localhost/"), None);
        assert_eq!(get("pg_isready -q"), None);
    }

    #[test]
    fn an_http_check_of_an_exposed_port_becomes_an_http_probe() {
        let p = probes(
            &check(&["CMD-SHELL", "curl -f http://localhost:8000/up"], 0),
            &[8000],
        );
        let p = p.unwrap();
        assert_eq!(p.readiness.http_get.unwrap().path.as_deref(), Some("/up"));
        assert_eq!(p.liveness.timeout_seconds, Some(3), "2.5s rounds up");
        assert!(p.startup.is_none());
        let unexposed = probes(
            &check(&["CMD", "curl", "-f", "http://localhost:8000/"], 0),
            &[],
        );
        assert!(unexposed.unwrap().readiness.exec.is_some());
    }

    #[test]
    fn a_start_period_becomes_a_startup_probe_that_waits_as_long() {
        let p = probes(&check(&["CMD", "/app", "healthcheck"], 60), &[]).unwrap();
        let startup = p.startup.unwrap();
        assert_eq!(startup.failure_threshold, Some(30 + 3));
        assert_eq!(
            startup.exec.unwrap().command.unwrap(),
            vec!["/app", "healthcheck"]
        );
        assert!(probes(&check(&["NONE"], 0), &[]).is_none());
    }
}
