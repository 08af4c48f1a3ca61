//! Following containers' output, as `logs`, attached `up` and `run` show it: line by line, each
//! line with its container's name and a colour of its own.

use std::{collections::HashMap, io::Write};

use futures_util::{stream::select_all, Stream, StreamExt};

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
    let streams = containers.iter().map(|c| {
        let request = LogRequest {
            follow: opts.follow,
            tail: opts.tail.clone(),
            timestamps: opts.timestamps,
            since: opts.since,
        };
        let name = c.name.clone();
        containers::logs(&ctx.engine, &c.id, &request)
            .map(move |chunk| (name.clone(), chunk))
            .boxed()
    });
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    print(select_all(streams), &names, opts).await;
    Ok(())
}

/// Writes labelled chunks to stdout line by line until the stream ends, each line behind its
/// label (padded to the longest of `labels`, the ones known at the start) in a colour of its
/// own.
pub async fn print(
    mut chunks: impl Stream<Item = (String, bytes::Bytes)> + Unpin,
    labels: &[&str],
    opts: &LogOptions,
) {
    let width = labels.iter().map(|l| l.len()).max().unwrap_or(0);
    let mut colours: HashMap<String, u8> = HashMap::new();
    let mut pending: HashMap<String, String> = HashMap::new();
    let mut out = std::io::stdout();
    let prefix = |label: &str, colours: &mut HashMap<String, u8>| {
        if !opts.prefix {
            return String::new();
        }
        let next = COLOURS[colours.len() % COLOURS.len()];
        let colour = *colours.entry(label.to_owned()).or_insert(next);
        if opts.colour {
            format!("\x1b[{colour}m{label:<width$} |\x1b[0m ")
        } else {
            format!("{label:<width$} | ")
        }
    };
    while let Some((label, chunk)) = chunks.next().await {
        let buffer = pending.entry(label.clone()).or_default();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(newline) = buffer.find('\n') {
            let line: String = buffer.drain(..=newline).collect();
            let _ = write!(out, "{}{line}", prefix(&label, &mut colours));
        }
        let _ = out.flush();
    }
    for (label, rest) in pending {
        if !rest.is_empty() {
            let _ = writeln!(out, "{}{rest}", prefix(&label, &mut colours));
        }
    }
}
