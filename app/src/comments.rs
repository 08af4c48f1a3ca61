//! Comments: what a valid one is, and how pages of them are read, newest first.
//!
//! "Parse, don't validate": a [`NewComment`] exists only once every field passed its rule, so the
//! routes and queries after it never check again.

use std::{collections::BTreeMap, fmt, str::FromStr};

use chrono::{DateTime, Datelike, TimeZone, Timelike, Utc};
use diesel::{pg::PgConnection, prelude::*};
use serde::{Deserialize, Serialize};

use crate::schema::comments;

/// Comments shown on one page.
pub const PAGE_SIZE: i64 = 50;
/// Longest title or author, in characters (the original's varchar(255)).
pub const MAX_NAME_CHARS: usize = 255;
/// Longest message, in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// A stored comment, as pages and the API show it.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, Deserialize, PartialEq)]
#[diesel(table_name = comments, check_for_backend(diesel::pg::Pg))]
pub struct Comment {
    pub id: i64,
    pub title: String,
    pub author: String,
    #[serde(rename = "text")]
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl Comment {
    /// The date as people read it, always in UTC: `2026-11-26 14:05 UTC`.
    pub fn date_display(&self) -> String {
        // By its fields, not `format("%Y-...")`: parsing the strftime string for every
        // comment of every page was 7% of a page view's time (docs/profile.md).
        let t = &self.created_at;
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute()
        )
    }

    /// The date for `<time datetime>`.
    pub fn date_iso(&self) -> String {
        self.created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    /// Where a page that ends with this comment continues.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.created_at,
            id: self.id,
        }
    }
}

/// What the user typed, before any rule was checked (the form's field names).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CommentInput {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub text: String,
}

/// A comment that passed every rule: trimmed, present, and within its length.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = comments)]
pub struct NewComment {
    title: String,
    author: String,
    body: String,
}

/// The rules a comment broke, by field name, each with a sentence for the user.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FieldErrors(pub BTreeMap<&'static str, String>);

impl FieldErrors {
    /// The message for one field, if it broke a rule.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }
}

impl NewComment {
    /// Applies the rules to what the user sent; every broken rule is reported at once.
    pub fn parse(input: &CommentInput) -> Result<Self, FieldErrors> {
        let mut errors = BTreeMap::new();
        let mut field = |name: &'static str, label: &str, value: &str, max: usize| {
            let value = value.trim();
            let chars = value.chars().count();
            if value.is_empty() {
                errors.insert(name, format!("{label} is required."));
            } else if chars > max {
                errors.insert(
                    name,
                    format!("{label} is too long: {chars} characters, at most {max}."),
                );
            }
            value.to_owned()
        };
        let title = field("title", "Title", &input.title, MAX_NAME_CHARS);
        let author = field("author", "Author", &input.author, MAX_NAME_CHARS);
        let body = field("text", "Message", &input.text, MAX_TEXT_CHARS);
        if errors.is_empty() {
            Ok(Self {
                title,
                author,
                body,
            })
        } else {
            Err(FieldErrors(errors))
        }
    }
}

/// A position in the newest-first order: the (created_at, id) of a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: i64,
}

/// Cursors travel in URLs as `MICROSECONDS_ID`, e.g. `1764115200000000_42`.
impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.created_at.timestamp_micros(), self.id)
    }
}

/// A cursor in a URL that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("not a page cursor: {0:?}")]
pub struct BadCursor(String);

impl FromStr for Cursor {
    type Err = BadCursor;
    fn from_str(s: &str) -> Result<Self, BadCursor> {
        let bad = || BadCursor(s.chars().take(64).collect());
        let (micros, id) = s.split_once('_').ok_or_else(bad)?;
        let micros: i64 = micros.parse().map_err(|_| bad())?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        let created_at = Utc.timestamp_micros(micros).single().ok_or_else(bad)?;
        Ok(Self { created_at, id })
    }
}

/// Which page to read: the newest, the one below a cursor, or the one above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageRequest {
    Newest,
    Older(Cursor),
    Newer(Cursor),
}

impl PageRequest {
    /// From the `before` and `after` query parameters; `before` wins if both are given.
    pub fn from_params(before: Option<&str>, after: Option<&str>) -> Result<Self, BadCursor> {
        match (
            before.filter(|s| !s.is_empty()),
            after.filter(|s| !s.is_empty()),
        ) {
            (Some(b), _) => Ok(Self::Older(b.parse()?)),
            (None, Some(a)) => Ok(Self::Newer(a.parse()?)),
            (None, None) => Ok(Self::Newest),
        }
    }
}

/// One page of comments, newest first, with where the neighbouring pages start.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub comments: Vec<Comment>,
    /// Cursor for the page of older comments (`?before=`), if there are any.
    pub older: Option<String>,
    /// Cursor for the page of newer comments (`?after=`), if there are any.
    pub newer: Option<String>,
}

/// Reads one page by keyset: an index range scan of `PAGE_SIZE + 1` rows, the same cost at a
/// million comments as at a hundred.
///
/// Each of the three queries has a fixed shape (no boxed query, no SQL text), so Diesel
/// prepares it once per connection and reuses the statement from its cache afterwards. The
/// row comparison `(created_at, id) < (c, i)` is spelled `created_at <= c AND (created_at < c
/// OR id < i)`: the first term bounds the index scan, the second breaks ties by id.
pub fn page(conn: &mut PgConnection, request: PageRequest) -> QueryResult<Page> {
    use comments::dsl::{created_at, id};
    let newest_first = (created_at.desc(), id.desc());
    let select = comments::table
        .select(Comment::as_select())
        .limit(PAGE_SIZE + 1);
    let mut rows = match request {
        PageRequest::Newest => select.order(newest_first).load(conn)?,
        PageRequest::Older(c) => select
            .filter(created_at.le(c.created_at))
            .filter(created_at.lt(c.created_at).or(id.lt(c.id)))
            .order(newest_first)
            .load(conn)?,
        PageRequest::Newer(c) => {
            let mut rows: Vec<Comment> = select
                .filter(created_at.ge(c.created_at))
                .filter(created_at.gt(c.created_at).or(id.gt(c.id)))
                .order((created_at.asc(), id.asc()))
                .load(conn)?;
            let more_newer = rows.len() as i64 > PAGE_SIZE;
            rows.truncate(PAGE_SIZE as usize);
            rows.reverse();
            let older = rows.last().map(|c| c.cursor().to_string());
            let newer = more_newer
                .then(|| rows.first().map(|c| c.cursor().to_string()))
                .flatten();
            return Ok(Page {
                comments: rows,
                older,
                newer,
            });
        }
    };
    let more_older = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let older = more_older
        .then(|| rows.last().map(|c| c.cursor().to_string()))
        .flatten();
    let newer = match request {
        PageRequest::Older(_) => rows.first().map(|c| c.cursor().to_string()),
        _ => None,
    };
    Ok(Page {
        comments: rows,
        older,
        newer,
    })
}

/// Stores a comment and returns it as saved, with its id and date.
pub fn insert(conn: &mut PgConnection, comment: &NewComment) -> QueryResult<Comment> {
    diesel::insert_into(comments::table)
        .values(comment)
        .returning(Comment::as_returning())
        .get_result(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(title: &str, author: &str, text: &str) -> CommentInput {
        CommentInput {
            title: title.into(),
            author: author.into(),
            text: text.into(),
        }
    }

    #[test]
    fn fields_are_trimmed() {
        let c = NewComment::parse(&input("  Hi ", "\tAnn\n", " body ")).unwrap();
        assert_eq!(
            (c.title.as_str(), c.author.as_str(), c.body.as_str()),
            ("Hi", "Ann", "body")
        );
    }

    #[test]
    fn every_broken_rule_is_reported_at_once() {
        let errors = NewComment::parse(&input(" ", "", "\n")).unwrap_err();
        assert_eq!(errors.get("title"), Some("Title is required."));
        assert_eq!(errors.get("author"), Some("Author is required."));
        assert_eq!(errors.get("text"), Some("Message is required."));
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        let ok = "é".repeat(MAX_NAME_CHARS);
        assert!(NewComment::parse(&input(&ok, &ok, &"ü".repeat(MAX_TEXT_CHARS))).is_ok());
        let errors = NewComment::parse(&input(
            &"x".repeat(MAX_NAME_CHARS + 1),
            "a",
            &"y".repeat(MAX_TEXT_CHARS + 1),
        ))
        .unwrap_err();
        assert!(errors
            .get("title")
            .unwrap()
            .contains("256 characters, at most 255"));
        assert!(errors.get("text").unwrap().contains("at most 10000"));
        assert_eq!(errors.get("author"), None);
    }

    #[test]
    fn dates_read_in_utc_to_the_minute() {
        let comment = Comment {
            id: 1,
            title: "t".into(),
            author: "a".into(),
            body: "b".into(),
            created_at: Utc.with_ymd_and_hms(2026, 3, 7, 9, 5, 59).unwrap(),
        };
        assert_eq!(comment.date_display(), "2026-03-07 09:05 UTC");
        assert_eq!(comment.date_iso(), "2026-03-07T09:05:59Z");
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = Cursor {
            created_at: Utc.timestamp_micros(1_764_115_200_123_456).unwrap(),
            id: 42,
        };
        assert_eq!(c.to_string(), "1764115200123456_42");
        assert_eq!(c.to_string().parse::<Cursor>().unwrap(), c);
        for bad in ["", "12", "a_1", "1_b", "99999999999999999999_1"] {
            assert!(bad.parse::<Cursor>().is_err(), "{bad}");
        }
    }

    #[test]
    fn page_requests_come_from_query_parameters() {
        assert_eq!(
            PageRequest::from_params(None, Some("")).unwrap(),
            PageRequest::Newest
        );
        assert!(matches!(
            PageRequest::from_params(Some("1_2"), Some("3_4")).unwrap(),
            PageRequest::Older(Cursor { id: 2, .. })
        ));
        assert!(PageRequest::from_params(None, Some("x")).is_err());
    }
}
