//! `.dockerignore` matched exactly as Docker matches it (moby/patternmatcher), built on
//! `globset`: paths anchored at the context root, `*` and `?` stop at `/`, `**` crosses
//! directories (also inside a name: `**file`, `a**`), a pattern that matches a directory
//! matches everything below it, `!` re-includes, and the last matching pattern wins.

use globset::{Glob, GlobBuilder, GlobMatcher};

/// One line of a `.dockerignore`.
#[derive(Debug)]
struct Pattern {
    /// The line as cleaned, for directory pruning.
    text: String,
    /// Globs whose union is the pattern (`**` inside a name expands to alternatives).
    globs: Vec<GlobMatcher>,
    /// A `!` line: re-includes what it matches.
    include: bool,
}

/// The rules of one `.dockerignore`.
#[derive(Debug, Default)]
pub struct Ignore {
    patterns: Vec<Pattern>,
}

/// A line that is not a valid pattern.
#[derive(Debug, thiserror::Error)]
#[error(".dockerignore line {line}: {message}")]
pub struct PatternError {
    pub line: usize,
    pub message: String,
}

impl Ignore {
    /// Reads a `.dockerignore` file's text.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let mut patterns = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (include, body) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let text = clean(body);
            if text.is_empty() {
                continue;
            }
            let globs = expand(&text)
                .into_iter()
                .map(|g| compile(&g))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| PatternError {
                    line: i + 1,
                    message: format!("{body:?}: {e}"),
                })?;
            patterns.push(Pattern {
                text,
                globs,
                include,
            });
        }
        Ok(Self { patterns })
    }

    /// True when `path` (relative to the context, `/`-separated) is left out of the context.
    pub fn is_excluded(&self, path: &str) -> bool {
        let path = path.trim_matches('/');
        let mut excluded = false;
        for p in &self.patterns {
            if p.matches_or_parent(path) {
                excluded = !p.include;
            }
        }
        excluded
    }

    /// True when nothing below the excluded directory `dir` can be re-included, so the walk
    /// may skip it whole (a Rust workspace's `target/` is never read).
    pub fn can_skip_dir(&self, dir: &str) -> bool {
        let dir = dir.trim_matches('/');
        self.is_excluded(dir)
            && !self.patterns.iter().any(|p| {
                p.include
                    && (p.text.starts_with(&format!("{dir}/"))
                        || p.text.contains('*') && !p.text.contains('/')
                        || p.text.starts_with("**"))
            })
    }
}

impl Pattern {
    fn matches_or_parent(&self, path: &str) -> bool {
        if self.globs.iter().any(|g| g.is_match(path)) {
            return true;
        }
        let mut end = path.len();
        while let Some(slash) = path[..end].rfind('/') {
            let parent = &path[..slash];
            if self.globs.iter().any(|g| g.is_match(parent)) {
                return true;
            }
            end = slash;
        }
        false
    }
}

/// Cleans a pattern as Go's `filepath.Clean` does, and drops a leading `/`.
fn clean(pattern: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in pattern.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// Expands `**` inside a name (`**file`, `a**`), which Docker lets cross directories, into
/// globs that globset accepts: `X**Y` is `X*Y` or `X*/**/*Y`.
fn expand(pattern: &str) -> Vec<String> {
    let mut results = vec![String::new()];
    for (i, component) in pattern.split('/').enumerate() {
        let alternatives: Vec<String> = if component != "**" && component.contains("**") {
            let (head, tail) = component.split_once("**").unwrap_or((component, ""));
            let tail = tail.trim_start_matches('*');
            vec![format!("{head}*{tail}"), format!("{head}*/**/*{tail}")]
        } else {
            vec![component.to_owned()]
        };
        results = results
            .iter()
            .flat_map(|prefix| {
                alternatives.iter().map(move |alt| {
                    if i == 0 {
                        alt.clone()
                    } else {
                        format!("{prefix}/{alt}")
                    }
                })
            })
            .collect();
    }
    results
}

fn compile(glob: &str) -> Result<GlobMatcher, globset::Error> {
    // Docker has no `{a,b}` alternation: braces are literal there.
    let escaped = glob.replace('{', "\\{").replace('}', "\\}");
    let builder: Result<Glob, _> = GlobBuilder::new(&escaped)
        .literal_separator(true)
        .backslash_escape(true)
        .empty_alternates(false)
        .build();
    Ok(builder?.compile_matcher())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// moby/patternmatcher's own cases (TestMatches), pattern against path.
    #[test]
    fn docker_pattern_cases() {
        let cases: &[(&str, &str, bool)] = &[
            ("**", "file", true),
            ("**", "file/", true),
            ("**/", "file", true),
            ("**/", "file/", true),
            ("**", "/", true),
            ("**/", "/", true),
            ("**", "dir/file", true),
            ("**/", "dir/file", true),
            ("**", "dir/file/", true),
            ("**/", "dir/file/", true),
            ("**/**", "dir/file", true),
            ("**/**", "dir/file/", true),
            ("dir/**", "dir/file", true),
            ("dir/**", "dir/file/", true),
            ("dir/**", "dir/dir2/file", true),
            ("dir/**", "dir/dir2/file/", true),
            ("**/dir", "dir", true),
            ("**/dir", "dir/file", true),
            ("**/dir2/*", "dir/dir2/file", true),
            ("**/dir2/*", "dir/dir2/file/", true),
            ("**/dir2/**", "dir/dir2/dir3/file", true),
            ("**/dir2/**", "dir/dir2/dir3/file/", true),
            ("**file", "file", true),
            ("**file", "dir/file", true),
            ("**/file", "dir/file", true),
            ("**file", "dir/dir/file", true),
            ("**/file", "dir/dir/file", true),
            ("**/file*", "dir/dir/file", true),
            ("**/file*", "dir/dir/file.txt", true),
            ("**/file*txt", "dir/dir/file.txt", true),
            ("**/file*.txt", "dir/dir/file.txt", true),
            ("**/file*.txt*", "dir/dir/file.txt", true),
            ("**/**/*.txt", "dir/dir/file.txt", true),
            ("**/**/*.txt2", "dir/dir/file.txt", false),
            ("**/*.txt", "file.txt", true),
            ("**/**/*.txt", "file.txt", true),
            ("a**/*.txt", "a/file.txt", true),
            ("a**/*.txt", "a/dir/file.txt", true),
            ("a**/*.txt", "a/dir/dir/file.txt", true),
            ("a/*.txt", "a/dir/file.txt", false),
            ("a/*.txt", "a/file.txt", true),
            ("a/*.txt**", "a/file.txt", true),
            ("a[b-d]e", "ae", false),
            ("a[b-d]e", "ace", true),
            ("a[b-d]e", "aae", false),
            ("a[^b-d]e", "aze", true),
            (".*", ".foo", true),
            (".*", "foo", false),
            ("abc.def", "abcdef", false),
            ("abc.def", "abc.def", true),
            ("abc.def", "abcZdef", false),
            ("abc?def", "abcZdef", true),
            ("abc?def", "abcdef", false),
            ("a\\\\", "a\\", true),
            ("**/foo/bar", "foo/bar", true),
            ("**/foo/bar", "dir/foo/bar", true),
            ("**/foo/bar", "dir/dir2/foo/bar", true),
            ("abc/**", "abc", false),
            ("abc/**", "abc/def", true),
            ("abc/**", "abc/def/ghi", true),
            ("**/.foo", ".foo", true),
            ("**/.foo", "bar.foo", false),
            ("a(b)c/def", "a(b)c/def", true),
            ("a(b)c/def", "a(b)c/xyz", false),
            ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
            (
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                true,
            ),
            (
                "dist/*.whl",
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                true,
            ),
        ];
        let mut wrong = Vec::new();
        for (pattern, path, expected) in cases {
            let ignore = Ignore::parse(pattern).unwrap();
            if ignore.is_excluded(path) != *expected {
                wrong.push(format!("{pattern:?} vs {path:?}: expected {expected}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn directories_exclude_what_they_hold_and_the_last_match_wins() {
        let ignore = Ignore::parse(
            "# build output\ntarget\n/.git\n*.log\n!important.log\ndocs/**\n!docs/keep.md\n",
        )
        .unwrap();
        assert!(ignore.is_excluded("target"));
        assert!(ignore.is_excluded("target/debug/app"));
        assert!(ignore.is_excluded(".git/HEAD"));
        assert!(!ignore.is_excluded("app/target.rs"));
        assert!(
            !ignore.is_excluded("app/src/target/x"),
            "anchored at the root"
        );
        assert!(ignore.is_excluded("debug.log"));
        assert!(!ignore.is_excluded("important.log"));
        assert!(ignore.is_excluded("docs/a.md"));
        assert!(!ignore.is_excluded("docs/keep.md"));
        assert!(!ignore.is_excluded("src/main.rs"));
        assert!(ignore.can_skip_dir("target"));
        assert!(!ignore.can_skip_dir("docs"), "a ! pattern reaches inside");
    }

    #[test]
    fn bad_patterns_name_their_line() {
        let err = Ignore::parse("ok\n[unclosed\n").unwrap_err();
        assert_eq!(err.line, 2);
    }
}
