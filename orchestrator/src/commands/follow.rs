//! Following containers' output, as `logs`, attached `up` and `run` show it: line by line, each
//! line with its container's name and a colour of its own.

use std::io::Write;

use futures_util::{stream::select_all, StreamExt};

use super::Context;
use crate::{
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
