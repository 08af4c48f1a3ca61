//! `logs`, and the log stream attached `up` shows: every container's output, line by line, each
//! with its name and a colour of its own.

use std::io::{IsTerminal, Write};

use futures_util::{stream::select_all, StreamExt};

use super::Context;
use crate::{
    cli::LogsArgs,
    engine::{
        containers::{self, LogRequest},
        state::Container,
    },
    Error,
};

const COLOURS: [u8; 6] = [36, 33, 32, 35, 34, 31];

/// How the containers' output is fetched and shown.
pub struct LogOptions {
    pub follow: bool,
    pub tail: Option<String>,
    pub timestamps: bool,
    pub since: i32,
    pub colour: bool,
    /// Prefix each line with its container's name (off for a single one-off container).
    pub prefix: bool,
}

/// Streams the output of `containers` to stdout until every stream ends.
pub async fn stream(
    ctx: &Context,
    containers: &[Container],
    opts: &LogOptions,
) -> Result<(), Error> {
    let width = containers.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let streams = containers.iter().enumerate().map(|(i, c)| {
        let prefix = if !opts.prefix {
            String::new()
        } else if opts.colour {
            format!(
                "\x1b[{}m{:<width$} |\x1b[0m ",
                COLOURS[i % COLOURS.len()],
                c.name
            )
        } else {
            format!("{:<width$} | ", c.name)
        };
        let request = LogRequest {
            follow: opts.follow,
            tail: opts.tail.clone(),
            timestamps: opts.timestamps,
            since: opts.since,
        };
        containers::logs(&ctx.engine, &c.id, &request)
            .map(move |chunk| (prefix.clone(), chunk))
            .boxed()
    });
    let mut merged = select_all(streams);
    let mut pending: std::collections::HashMap<String, String> = Default::default();
    let mut out = std::io::stdout();
    while let Some((prefix, chunk)) = merged.next().await {
        let buffer = pending.entry(prefix.clone()).or_default();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(newline) = buffer.find('\n') {
            let line: String = buffer.drain(..=newline).collect();
            let _ = write!(out, "{prefix}{line}");
        }
        let _ = out.flush();
    }
    for (prefix, rest) in pending {
        if !rest.is_empty() {
            let _ = writeln!(out, "{prefix}{rest}");
        }
    }
    Ok(())
}

/// Reads `--since` as RFC 3339 or a Unix timestamp.
pub fn parse_since(since: Option<&str>) -> Result<i32, Error> {
    let Some(text) = since else { return Ok(0) };
    if let Ok(n) = text.parse::<i32>() {
        return Ok(n);
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp() as i32)
        .map_err(|_| {
            Error::Usage(format!(
                "--since {text:?} is not RFC 3339 (2026-11-26T10:00:00Z) or a Unix timestamp"
            ))
        })
}

/// `logs`.
pub async fn run(ctx: &Context, args: &LogsArgs) -> Result<i32, Error> {
    let containers = ctx.containers(&args.services, true, false).await?;
    let opts = LogOptions {
        follow: args.follow,
        tail: args.tail.clone(),
        timestamps: args.timestamps,
        since: parse_since(args.since.as_deref())?,
        colour: !args.no_color && std::io::stdout().is_terminal(),
        prefix: true,
    };
    stream(ctx, &containers, &opts).await?;
    Ok(0)
}
