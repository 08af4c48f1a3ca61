//! `logs`: every container's output, line by line, each with its name and a colour of its own.

use std::io::IsTerminal;

use super::{
    follow::{self, LogOptions},
    Context,
};
use crate::{cli::LogsArgs, Error};

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
    follow::stream(ctx, &containers, &opts).await?;
    Ok(0)
}
