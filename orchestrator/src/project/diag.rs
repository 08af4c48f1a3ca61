//! Diagnostics: what is wrong (or odd) in a compose file, and exactly where.

use std::{fmt, path::PathBuf};

/// A line and column in a file, both counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// One step into a document: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

/// A path into a document, shown as `services.app.ports[1]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct DocPath(pub Vec<PathSeg>);

impl DocPath {
    /// The path of the document's root.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// This path, one key deeper.
    pub fn key(&self, key: &str) -> Self {
        let mut segs = self.0.clone();
        segs.push(PathSeg::Key(key.to_owned()));
        Self(segs)
    }

    /// This path, one index deeper.
    pub fn index(&self, index: usize) -> Self {
        let mut segs = self.0.clone();
        segs.push(PathSeg::Index(index));
        Self(segs)
    }
}

impl fmt::Display for DocPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                PathSeg::Key(k) if i == 0 => write!(f, "{k}")?,
                PathSeg::Key(k) => write!(f, ".{k}")?,
                PathSeg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A problem found while loading, placed as precisely as we can: file, line, column, path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: Option<PathBuf>,
    pub location: Option<Location>,
    pub path: DocPath,
    pub message: String,
}

impl Diagnostic {
    /// An error at `path`; file and position are filled in by the loader.
    pub fn error(path: DocPath, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            file: None,
            location: None,
            path,
            message: message.into(),
        }
    }

    /// A warning at `path`.
    pub fn warning(path: DocPath, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(path, message)
        }
    }

    /// True for errors (and for warnings made errors by `--strict`).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some(l) = self.location {
                write!(f, ":{}:{}", l.line, l.column)?;
            }
            f.write_str(": ")?;
        }
        if !self.path.0.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}
