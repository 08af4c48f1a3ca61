//! Where variables come from: the process environment first, then the `.env` file beside the
//! first compose file (or the one `--env-file` names). Also reads services' `env_file`s, which
//! share the format.

use std::{collections::BTreeMap, path::Path};

use super::interpolate::{substitute, TemplateError};

/// The variables interpolation sees.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    process: BTreeMap<String, String>,
    dotenv: BTreeMap<String, String>,
    /// `--no-interpolate`: strings are kept as written, `${...}` and `$$` included.
    verbatim: bool,
}

impl Environment {
    /// The process's variables and, beneath them, the `.env` file's.
    pub fn new(process: BTreeMap<String, String>, dotenv: BTreeMap<String, String>) -> Self {
        Self {
            process,
            dotenv,
            verbatim: false,
        }
    }

    /// The same variables, but files are read without interpolation (`--no-interpolate`).
    pub fn verbatim(self) -> Self {
        Self {
            verbatim: true,
            ..self
        }
    }

    /// True unless `--no-interpolate` asked for the files as written.
    pub fn interpolates(&self) -> bool {
        !self.verbatim
    }

    /// These variables with `vars` over them: an included project's `env_file`, which wins
    /// over the shell, as compose-go merges it.
    pub fn overlaid(&self, vars: BTreeMap<String, String>) -> Self {
        let mut process = self.dotenv.clone();
        process.extend(self.process.clone());
        process.extend(vars);
        Self {
            process,
            dotenv: BTreeMap::new(),
            verbatim: self.verbatim,
        }
    }

    /// A variable's value: the shell's wins over the `.env` file's, as in Compose.
    pub fn get(&self, name: &str) -> Option<String> {
        self.process
            .get(name)
            .or_else(|| self.dotenv.get(name))
            .cloned()
    }
}

/// A line of an env file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct EnvFileError {
    pub line: usize,
    pub message: String,
}

/// Reads `KEY=VALUE` lines (a bare `KEY` takes `lookup`'s value, or is left out): `#` comments, blank lines, an optional `export `, single quotes
/// (literal), double quotes (escapes, may span lines), unquoted values trimmed and cut at ` #`.
/// Unquoted and double-quoted values may use earlier keys and `lookup` as `${VAR}`.
pub fn parse_env_file(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, EnvFileError> {
    let mut vars = BTreeMap::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((index, raw)) = lines.next() {
        let line_no = index + 1;
        let err = |message: String| EnvFileError {
            line: line_no,
            message,
        };
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((key, value)) = line.split_once('=') else {
            // A bare `KEY` takes the shell's value, or is left out, as in Compose.
            let key = line.split(" #").next().unwrap_or_default().trim();
            if !valid_key(key) {
                return Err(err(format!("expected KEY=VALUE, got {:?}", line.trim())));
            }
            if let Some(value) = lookup(key) {
                vars.insert(key.to_owned(), value);
            }
            continue;
        };
        let key = key.trim();
        if !valid_key(key) {
            return Err(err(format!("{key:?} is not a valid variable name")));
        }
        let value = value.trim_start();
        let resolved = if let Some(body) = value.strip_prefix('\'') {
            let end = body
                .find('\'')
                .ok_or_else(|| err("unterminated single quote".into()))?;
            body[..end].to_owned()
        } else if let Some(body) = value.strip_prefix('"') {
            let mut text = body.to_owned();
            let end = loop {
                if let Some(end) = closing_double_quote(&text) {
                    break end;
                }
                match lines.next() {
                    Some((_, more)) => {
                        text.push('\n');
                        text.push_str(more);
                    }
                    None => return Err(err("unterminated double quote".into())),
                }
            };
            let unescaped = unescape(&text[..end]);
            expand(&unescaped, &vars, lookup).map_err(|e| err(e.to_string()))?
        } else {
            let value = match value.find(" #").or_else(|| value.find("\t#")) {
                Some(i) => &value[..i],
                None => value,
            };
            expand(value.trim_end(), &vars, lookup).map_err(|e| err(e.to_string()))?
        };
        vars.insert(key.to_owned(), resolved);
    }
    Ok(vars)
}

fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c == '.' || c == '-' || c.is_ascii_alphanumeric())
}

fn closing_double_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn expand(
    value: &str,
    earlier: &BTreeMap<String, String>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, TemplateError> {
    let both = |name: &str| earlier.get(name).cloned().or_else(|| lookup(name));
    substitute(value, &both, &mut Default::default())
}

/// Reads an env file from disk.
pub fn read_env_file(
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("could not read {}: {e}", path.display()))?;
    parse_env_file(&text, lookup).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<BTreeMap<String, String>, EnvFileError> {
        parse_env_file(text, &|name| {
            (name == "HOME").then(|| "/home/u".to_string())
        })
    }

    #[test]
    fn the_forms_people_write() {
        let vars = parse(
            "# comment\n\nA=1\nexport B=two words\nC='single $HOME # kept'\n\
             D=\"double\\nline $HOME\"\nE=unquoted # comment\nF=\nG=${A}-${HOME}\n\
             H=\"multi\nline\"\n  I = spaced\nJ=a=b\n",
        )
        .unwrap();
        let get = |k: &str| vars.get(k).map(String::as_str);
        assert_eq!(get("A"), Some("1"));
        assert_eq!(get("B"), Some("two words"));
        assert_eq!(get("C"), Some("single $HOME # kept"));
        assert_eq!(get("D"), Some("double\nline /home/u"));
        assert_eq!(get("E"), Some("unquoted"));
        assert_eq!(get("F"), Some(""));
        assert_eq!(get("G"), Some("1-/home/u"));
        assert_eq!(get("H"), Some("multi\nline"));
        assert_eq!(get("I"), Some("spaced"));
        assert_eq!(get("J"), Some("a=b"));
    }

    #[test]
    fn bad_lines_are_numbered() {
        assert_eq!(parse("A=1\nnot a pair\n").unwrap_err().line, 2);
        let bare = parse("HOME\nUNSET # no value\nA=1\n").unwrap();
        assert_eq!(bare.get("HOME").map(String::as_str), Some("/home/u"));
        assert!(
            !bare.contains_key("UNSET"),
            "a bare key with no value is left out"
        );
        assert_eq!(parse("1A=x").unwrap_err().line, 1);
        assert_eq!(parse("A=\"open\n").unwrap_err().line, 1);
        assert!(parse("A='open")
            .unwrap_err()
            .message
            .contains("single quote"));
    }

    #[test]
    fn the_shell_wins_over_the_file() {
        let env = Environment::new(
            [("A".to_string(), "shell".to_string())].into(),
            [
                ("A".to_string(), "file".to_string()),
                ("B".to_string(), "file".to_string()),
            ]
            .into(),
        );
        assert_eq!(env.get("A").as_deref(), Some("shell"));
        assert_eq!(env.get("B").as_deref(), Some("file"));
        assert_eq!(env.get("C"), None);
    }
}
