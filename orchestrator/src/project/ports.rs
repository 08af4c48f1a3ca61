//! Published ports: the short syntax (`"127.0.0.1:8080-8081:80-81/udp"`) and the long one.

use serde::Serialize;
use serde_json::Value as Tree;

/// One container port and how it is published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Port {
    pub target: u16,
    /// A host port, or a range the engine picks from; `None`: the engine picks any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
    pub protocol: String,
    pub mode: String,
}

/// Parses a port entry, short or long, into one port per container port (ranges expanded).
pub fn parse(entry: &Tree) -> Result<Vec<Port>, String> {
    match entry {
        Tree::String(s) => parse_short(s),
        Tree::Number(n) => parse_short(&n.to_string()),
        Tree::Object(m) => {
            let target = match m.get("target") {
                Some(Tree::Number(n)) => port_number(&n.to_string())?,
                Some(Tree::String(s)) => port_number(s)?,
                Some(_) => return Err("target must be a port number".into()),
                None => return Err("a long-syntax port needs a target".into()),
            };
            let published = match m.get("published") {
                None | Some(Tree::Null) => None,
                Some(Tree::Number(n)) => Some(range(&n.to_string())?),
                Some(Tree::String(s)) if s.is_empty() => None,
                Some(Tree::String(s)) => Some(range(s)?),
                Some(_) => return Err("published must be a port or a range".into()),
            };
            let protocol = match m.get("protocol") {
                None => "tcp".to_owned(),
                Some(Tree::String(p)) => protocol(p)?,
                Some(_) => return Err("protocol must be tcp, udp or sctp".into()),
            };
            let mode = match m.get("mode").and_then(Tree::as_str) {
                None | Some("ingress") => "ingress",
                Some("host") => "host",
                Some(other) => return Err(format!("mode must be ingress or host, not {other:?}")),
            };
            for key in m.keys() {
                if ![
                    "target",
                    "published",
                    "host_ip",
                    "protocol",
                    "mode",
                    "name",
                    "app_protocol",
                ]
                .contains(&key.as_str())
                {
                    return Err(format!("unknown key {key:?} in a port"));
                }
            }
            Ok(vec![Port {
                target,
                published: published.map(|(a, b)| render_range(a, b)),
                host_ip: m.get("host_ip").and_then(Tree::as_str).map(str::to_owned),
                protocol,
                mode: mode.to_owned(),
            }])
        }
        _ => Err("a port must be a string, a number or a mapping".into()),
    }
}

fn parse_short(spec: &str) -> Result<Vec<Port>, String> {
    let bad = |why: &str| format!("bad port spec {spec:?}: {why}");
    let (rest, proto) = match spec.rsplit_once('/') {
        Some((rest, p)) => (rest, protocol(p).map_err(|e| bad(&e))?),
        None => (spec, "tcp".to_owned()),
    };
    let (host_ip, rest) = if let Some(inner) = rest.strip_prefix('[') {
        let (ip, after) = inner.split_once(']').ok_or_else(|| bad("unclosed ["))?;
        let after = after
            .strip_prefix(':')
            .ok_or_else(|| bad("expected : after the IPv6 address"))?;
        (Some(ip.to_owned()), after)
    } else {
        let parts: Vec<&str> = rest.split(':').collect();
        match parts.len() {
            1 | 2 => (None, rest),
            3 => (Some(parts[0].to_owned()), &rest[parts[0].len() + 1..]),
            _ => return Err(bad("too many colons (IPv6 addresses go in brackets)")),
        }
    };
    if let Some(ip) = &host_ip {
        ip.parse::<std::net::IpAddr>()
            .map_err(|_| bad(&format!("{ip:?} is not an IP address")))?;
    }
    let (published, target) = match rest.split_once(':') {
        Some((p, t)) => (Some(p), t),
        None => (None, rest),
    };
    let (t_start, t_end) = range(target).map_err(|e| bad(&e))?;
    let published = match published {
        None | Some("") => None,
        Some(p) => Some(range(p).map_err(|e| bad(&e))?),
    };
    let count = t_end - t_start + 1;
    let port = |target: u16, published: Option<String>| Port {
        target,
        published,
        host_ip: host_ip.clone(),
        protocol: proto.clone(),
        mode: "ingress".into(),
    };
    match published {
        Some((p_start, p_end)) if count > 1 => {
            if p_end - p_start + 1 != count {
                return Err(bad("the host and container ranges differ in length"));
            }
            Ok((0..count)
                .map(|i| port(t_start + i, Some((p_start + i).to_string())))
                .collect())
        }
        Some((p_start, p_end)) => Ok(vec![port(t_start, Some(render_range(p_start, p_end)))]),
        None => Ok((t_start..=t_end).map(|t| port(t, None)).collect()),
    }
}

fn protocol(p: &str) -> Result<String, String> {
    match p.to_ascii_lowercase().as_str() {
        p @ ("tcp" | "udp" | "sctp") => Ok(p.to_owned()),
        other => Err(format!("unknown protocol {other:?} (tcp, udp or sctp)")),
    }
}

fn port_number(s: &str) -> Result<u16, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
        Ok(n) => Err(format!("port {n} is out of range (1-65535)")),
        Err(_) => Err(format!("{s:?} is not a port number")),
    }
}

fn range(s: &str) -> Result<(u16, u16), String> {
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (port_number(a)?, port_number(b)?);
            if a > b {
                return Err(format!("range {s:?} runs backwards"));
            }
            Ok((a, b))
        }
        None => port_number(s).map(|p| (p, p)),
    }
}

fn render_range(a: u16, b: u16) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a}-{b}")
    }
}

/// The identity of a port entry when files are merged: host IP, published, target, protocol.
pub fn merge_key(entry: &Tree) -> Option<String> {
    let ports = parse(entry).ok()?;
    Some(
        ports
            .iter()
            .map(|p| {
                format!(
                    "{}:{}:{}/{}",
                    p.host_ip.as_deref().unwrap_or(""),
                    p.published.as_deref().unwrap_or(""),
                    p.target,
                    p.protocol
                )
            })
            .collect::<Vec<_>>()
            .join(","),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn short(s: &str) -> Vec<(Option<&'static str>, Option<String>, u16, String)> {
        parse(&json!(s))
            .unwrap()
            .into_iter()
            .map(|p| {
                (
                    p.host_ip.map(|ip| &*Box::leak(ip.into_boxed_str())),
                    p.published,
                    p.target,
                    p.protocol,
                )
            })
            .collect()
    }

    #[test]
    fn short_syntax_forms() {
        let tcp = || "tcp".to_string();
        assert_eq!(short("80"), [(None, None, 80, tcp())]);
        assert_eq!(short("8080:80"), [(None, Some("8080".into()), 80, tcp())]);
        assert_eq!(
            short("127.0.0.1:8080:80"),
            [(Some("127.0.0.1"), Some("8080".into()), 80, tcp())]
        );
        assert_eq!(
            short("127.0.0.1::80"),
            [(Some("127.0.0.1"), None, 80, tcp())]
        );
        assert_eq!(
            short("[::1]:8080:80/udp"),
            [(Some("::1"), Some("8080".into()), 80, "udp".into())]
        );
        assert_eq!(
            short("8080-8081:80-81"),
            [
                (None, Some("8080".into()), 80, tcp()),
                (None, Some("8081".into()), 81, tcp())
            ]
        );
        assert_eq!(
            short("9000-9010:80"),
            [(None, Some("9000-9010".into()), 80, tcp())]
        );
        assert_eq!(short("3000-3001").len(), 2);
        assert_eq!(parse(&json!(5432)).unwrap()[0].target, 5432);
    }

    #[test]
    fn long_syntax() {
        let p = parse(&json!({"target": 80, "published": "8080", "host_ip": "0.0.0.0", "protocol": "udp", "mode": "host"}))
            .unwrap();
        assert_eq!(p[0].published.as_deref(), Some("8080"));
        assert_eq!(p[0].mode, "host");
        assert!(parse(&json!({"published": 80}))
            .unwrap_err()
            .contains("needs a target"));
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let cases = [
            ("0", "out of range"),
            ("70000", "out of range"),
            ("http", "not a port number"),
            ("80/icmp", "unknown protocol"),
            ("8080-8082:80-81", "differ in length"),
            ("81-80", "runs backwards"),
            ("localhost:80:80", "not an IP address"),
            ("1:2:3:4", "too many colons"),
            ("[::1:80", "unclosed"),
        ];
        for (spec, expected) in cases {
            let err = parse(&json!(spec)).unwrap_err();
            assert!(err.contains(expected), "{spec}: {err}");
        }
        assert!(parse(&json!(true)).is_err());
    }
}
