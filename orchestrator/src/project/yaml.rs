//! The one module that speaks YAML. `serde_yaml` is archived upstream, so nothing else in the
//! crate names it: documents come out of here as [`Tree`] values (JSON-shaped, order kept) and
//! go back in as text; source positions are found here too.

use serde::{
    de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor},
    Serialize,
};
use serde_json::{Map, Value as Tree};

use super::diag::{Location, PathSeg};

/// Why a document is not YAML we can read.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub message: String,
    pub location: Option<Location>,
}

/// Parses one YAML document into a tree: anchors and aliases resolved, `<<` merge keys applied,
/// keys made strings. An empty document is an empty mapping.
pub fn parse(text: &str) -> Result<Tree, SyntaxError> {
    let mut value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| SyntaxError {
        location: e.location().map(|l| Location {
            line: l.line(),
            column: l.column(),
        }),
        message: strip_position(&e.to_string()),
    })?;
    value.apply_merge().map_err(|e| SyntaxError {
        location: None,
        message: format!("bad merge key (<<): {}", strip_position(&e.to_string())),
    })?;
    Ok(match value {
        serde_yaml::Value::Null => Tree::Object(Map::new()),
        other => to_tree(other),
    })
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn to_tree(value: serde_yaml::Value) -> Tree {
    use serde_yaml::Value as Y;
    match value {
        Y::Null => Tree::Null,
        Y::Bool(b) => Tree::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Tree::from(i)
            } else if let Some(u) = n.as_u64() {
                Tree::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Tree::Number)
                    .unwrap_or_else(|| Tree::String(n.to_string()))
            }
        }
        Y::String(s) => Tree::String(s),
        Y::Sequence(items) => Tree::Array(items.into_iter().map(to_tree).collect()),
        Y::Mapping(map) => Tree::Object(
            map.into_iter()
                .map(|(k, v)| (key_string(k), to_tree(v)))
                .collect(),
        ),
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let value = to_tree(tagged.value);
            match tag.trim_start_matches('!') {
                "reset" => super::merge::marker(super::merge::RESET, Tree::Null),
                "override" => super::merge::marker(super::merge::OVERRIDE, value),
                _ => value,
            }
        }
    }
}

fn key_string(key: serde_yaml::Value) -> String {
    use serde_yaml::Value as Y;
    match key {
        Y::String(s) => s,
        Y::Null => "null".into(),
        Y::Bool(b) => b.to_string(),
        Y::Number(n) => n.to_string(),
        other => serde_yaml::to_string(&other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

/// Writes any serializable value as a YAML document that YAML 1.1 readers (PyYAML,
/// docker-compose 1.x) and 1.2 readers read alike: a string that either could take for a
/// boolean, number or null (`no`, `on`, `0755`, `~`) is quoted.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, String> {
    let tree = serde_json::to_value(value).map_err(|e| e.to_string())?;
    let mut out = String::new();
    match &tree {
        Tree::Object(m) if !m.is_empty() => emit_map(&mut out, m, 0),
        Tree::Array(a) if !a.is_empty() => emit_seq(&mut out, a, 0),
        scalar => {
            out.push_str(&scalar_text(scalar, 0));
            out.push('\n');
        }
    }
    Ok(out)
}

fn emit_map(out: &mut String, map: &Map<String, Tree>, indent: usize) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !out.ends_with("- ") {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&quote(key));
        out.push(':');
        emit_child(out, value, indent);
    }
}

fn emit_seq(out: &mut String, items: &[Tree], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Tree::Object(m) if !m.is_empty() => emit_map(out, m, indent + 2),
            Tree::Array(a) if !a.is_empty() => {
                out.push('\n');
                emit_seq(out, a, indent + 2)
            }
            scalar => {
                out.push_str(&scalar_text(scalar, indent + 2));
                out.push('\n');
            }
        }
    }
}

/// What follows `key:`: a scalar on the same line, or a nested block below it.
fn emit_child(out: &mut String, value: &Tree, indent: usize) {
    match value {
        Tree::Object(m) if !m.is_empty() => {
            out.push('\n');
            emit_map(out, m, indent + 2);
        }
        Tree::Array(a) if !a.is_empty() => {
            out.push('\n');
            emit_seq(out, a, indent);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar, indent + 2));
            out.push('\n');
        }
    }
}

fn scalar_text(value: &Tree, indent: usize) -> String {
    match value {
        Tree::Null => "null".into(),
        Tree::Bool(b) => b.to_string(),
        Tree::Number(n) => n.to_string(),
        Tree::String(s) if is_block_friendly(s) => {
            let chomp = if s.ends_with('\n') { "" } else { "-" };
            let pad = " ".repeat(indent);
            let body: Vec<String> = s
                .trim_end_matches('\n')
                .split('\n')
                .map(|l| {
                    if l.is_empty() {
                        String::new()
                    } else {
                        format!("{pad}{l}")
                    }
                })
                .collect();
            format!("|{chomp}\n{}", body.join("\n"))
        }
        Tree::String(s) => quote(s),
        Tree::Object(_) => "{}".into(),
        Tree::Array(_) => "[]".into(),
    }
}

/// Multi-line text that reads back exactly from a literal block.
fn is_block_friendly(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\n'])
        && !s.ends_with("\n\n")
        && !s.chars().any(|c| c.is_control() && c != '\n')
        && s.lines().all(|l| !l.ends_with(' ') && !l.ends_with('\t'))
}

/// A string as a plain scalar when every YAML reader takes it for that string, else quoted.
fn quote(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_owned()
    } else {
        // A JSON string is a valid YAML double-quoted scalar.
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    }
}

fn is_plain_safe(s: &str) -> bool {
    const RESERVED: &[&str] = &[
        "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", "", ".inf", "-.inf",
        "+.inf", ".nan", "<<", "=",
    ];
    let lower = s.to_ascii_lowercase();
    if RESERVED.contains(&lower.as_str()) {
        return false;
    }
    if s.parse::<f64>().is_ok() {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    if first.is_ascii_digit() || matches!(first, '+' | '.') {
        // Octals, sexagesimals (1:30), dates: leave nothing for a reader to guess.
        if s.chars()
            .all(|c| c.is_ascii_digit() || "+-.:_eExXoObBaAcCdDfF".contains(c))
        {
            return false;
        }
    }
    // A leading indicator character makes a plain scalar something else, except for a dash
    // that starts a word (`--flag`, `-w`), which stays plain.
    let dash_word =
        first == '-' && s.len() > 1 && !s[1..].starts_with(' ') && !s.starts_with("---");
    if "-?:,[]{}#&*!|>'\"%@` ".contains(first) && !dash_word {
        return false;
    }
    !(s.ends_with(' ')
        || s.ends_with(':')
        || s.contains(": ")
        || s.contains(" #")
        || s.chars().any(|c| c.is_control()))
}

/// Finds where the node at `path` starts in `text`, or where its nearest present ancestor
/// starts. Walks the document with serde_yaml and stops with an error at the node, which
/// serde_yaml stamps with its position.
pub fn locate(text: &str, path: &[PathSeg]) -> Option<Location> {
    for len in (1..=path.len()).rev() {
        let seed = Locator { path: &path[..len] };
        let de = serde_yaml::Deserializer::from_str(text);
        if let Err(e) = seed.deserialize(de) {
            if e.to_string().contains(FOUND) {
                if let Some(l) = e.location() {
                    return Some(Location {
                        line: l.line(),
                        column: l.column(),
                    });
                }
            }
        }
    }
    None
}

const FOUND: &str = "\u{0}found";

/// The scalar `visit_*` methods of a visitor, each answering `$result` (`E` is the error type).
macro_rules! scalar_visits {
    ($result:expr; $($method:ident($($ty:ty)?)),*) => {$(
        fn $method<E: de::Error>(self $(, _: $ty)?) -> Result<(), E> {
            $result
        }
    )*};
}

struct Locator<'p> {
    path: &'p [PathSeg],
}

impl<'de> DeserializeSeed<'de> for Locator<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        if self.path.is_empty() {
            // Fail inside the node's own visit, so serde_yaml stamps the node's position.
            return de.deserialize_any(Found);
        }
        de.deserialize_any(self)
    }
}

/// Refuses the list entry that stands for `key` (`key`, `key=value` or `key:value`).
struct Entry<'k> {
    key: &'k str,
}

impl<'de> DeserializeSeed<'de> for Entry<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Entry<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list entry")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        let rest = s.strip_prefix(self.key);
        match rest {
            Some("") => Err(E::custom(FOUND)),
            Some(r) if r.starts_with('=') || r.starts_with(':') => Err(E::custom(FOUND)),
            _ => Ok(()),
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    scalar_visits!(Ok(());
        visit_bool(bool), visit_i64(i64), visit_u64(u64), visit_f64(f64), visit_unit());
}

/// Refuses whatever node it is given.
struct Found;

impl<'de> Visitor<'de> for Found {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("the node being located")
    }

    scalar_visits!(Err(E::custom(FOUND));
        visit_bool(bool), visit_i64(i64), visit_u64(u64), visit_f64(f64), visit_str(&str),
        visit_unit(), visit_none());

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(FOUND))
    }
}

impl<'de> Visitor<'de> for Locator<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let PathSeg::Key(wanted) = &self.path[0] else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        while let Some(key) = map.next_key::<serde_yaml::Value>()? {
            if key_string(key) == *wanted {
                return map.next_value_seed(Locator {
                    path: &self.path[1..],
                });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let wanted = match &self.path[0] {
            PathSeg::Index(i) => *i,
            // A list that merging turned into a mapping (`[A=1]`, `[db]`): find the entry.
            PathSeg::Key(key) => {
                while seq.next_element_seed(Entry { key })?.is_some() {}
                return Ok(());
            }
        };
        let mut index = 0;
        loop {
            if index == wanted {
                return seq
                    .next_element_seed(Locator {
                        path: &self.path[1..],
                    })
                    .map(|_| ());
            }
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    scalar_visits!(Ok(());
        visit_bool(bool), visit_i64(i64), visit_u64(u64), visit_f64(f64), visit_str(&str),
        visit_unit(), visit_none());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> PathSeg {
        PathSeg::Key(k.into())
    }

    #[test]
    fn nodes_are_located_by_path() {
        let text = "services:\n  app:\n    image: x\n    ports:\n      - \"80\"\n      - 90:90\n";
        let at = |path: &[PathSeg]| locate(text, path).map(|l| (l.line, l.column));
        assert_eq!(
            at(&[key("services"), key("app"), key("image")]),
            Some((3, 12))
        );
        assert_eq!(
            at(&[key("services"), key("app"), key("ports"), PathSeg::Index(1)]),
            Some((6, 9))
        );
        // An entry of a list that merging made a mapping is found by its name.
        let text2 = "services:\n  app:\n    depends_on: [db, cache]\n";
        assert_eq!(
            locate(
                text2,
                &[key("services"), key("app"), key("depends_on"), key("cache")]
            )
            .map(|l| (l.line, l.column)),
            Some((3, 22))
        );
        // A path that is not in the text points at its nearest ancestor.
        assert_eq!(
            at(&[key("services"), key("app"), key("user")]),
            Some((3, 5))
        );
    }

    #[test]
    fn merge_keys_and_anchors_are_applied() {
        let tree =
            parse("x-base: &base\n  a: 1\nservices:\n  s:\n    <<: *base\n    b: 2\n").unwrap();
        assert_eq!(tree["services"]["s"], serde_json::json!({"a": 1, "b": 2}));
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let err = parse("services:\n  app: [unclosed\n").unwrap_err();
        assert!(err.location.is_some());
        assert!(!err.message.contains(" at line "), "{}", err.message);
    }

    #[test]
    fn written_documents_read_back_the_same_and_quote_what_readers_would_guess() {
        let doc = serde_json::json!({
            "name": "x",
            "plain": "nginx:1.25",
            "ambiguous": ["no", "Yes", "on", "null", "~", "0755", "1:30", "12", "1.5", "1e3", "", " lead", "trail ", "a: b", "#c", "-", "--flag", "-w", "*star", "x #y", "2026-01-01", "-1", "---", "--", "- x"],
            "map": {"nested": {"deep": [1, true, null, {"k": "v", "k2": []}]}, "empty": {}},
            "text": "line one\nline two\n",
            "text2": "no newline at end\nsecond",
            "tricky": "ends with two\n\n",
            "list_of_lists": [["a", "b"], []]
        });
        let text = to_string(&doc).unwrap();
        assert_eq!(parse(&text).unwrap(), doc, "{text}");
        for word in ["no", "Yes", "on", "null", "0755", "1:30", "12"] {
            assert!(
                text.contains(&format!("- \"{word}\"")),
                "{word} quoted in\n{text}"
            );
        }
        assert!(
            text.contains("- --flag\n") && text.contains("- -w\n"),
            "{text}"
        );
        assert!(text.contains("plain: nginx:1.25\n"), "{text}");
        assert!(text.contains("text: |\n  line one\n  line two\n"), "{text}");
    }

    #[test]
    fn an_empty_document_is_an_empty_mapping() {
        assert_eq!(parse("").unwrap(), serde_json::json!({}));
        assert_eq!(parse("# nothing\n").unwrap(), serde_json::json!({}));
    }
}
