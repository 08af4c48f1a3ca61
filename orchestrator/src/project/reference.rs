//! Image references, split once and for all: `[registry[:port]/]path[:tag][@digest]`.
//! A colon after the last slash is a tag; one before it belongs to a registry's port
//! (`localhost:5000/app` has no tag).

use std::fmt;

/// An image reference in its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Everything before the tag and digest: `postgres`, `localhost:5000/team/app`.
    pub repository: String,
    /// The tag, if written.
    pub tag: Option<String>,
    /// The digest (`sha256:...`), if written.
    pub digest: Option<String>,
}

impl Reference {
    /// Splits a reference as Docker does.
    pub fn parse(image: &str) -> Self {
        let (rest, digest) = match image.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest.to_owned())),
            None => (image, None),
        };
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        match rest[last_slash..].rfind(':') {
            Some(colon) => Self {
                repository: rest[..last_slash + colon].to_owned(),
                tag: Some(rest[last_slash + colon + 1..].to_owned()),
                digest,
            },
            None => Self {
                repository: rest.to_owned(),
                tag: None,
                digest,
            },
        }
    }

    /// The registry the repository names, if any: a first path part with a dot or a port, or
    /// `localhost` (`registry.example:5000/team/app` -> `registry.example:5000`), as Docker
    /// tells a registry from a user name.
    pub fn registry(&self) -> Option<&str> {
        let (first, _) = self.repository.split_once('/')?;
        (first.contains('.') || first.contains(':') || first == "localhost").then_some(first)
    }

    /// The repository without its registry: `team/app` for `registry.example:5000/team/app`.
    pub fn path(&self) -> &str {
        match self.registry() {
            Some(registry) => &self.repository[registry.len() + 1..],
            None => &self.repository,
        }
    }

    /// What to ask a registry for besides the repository: the digest if there is one, else
    /// the tag, else Docker's `latest`.
    pub fn tag_or_digest(&self) -> String {
        self.digest
            .clone()
            .or_else(|| self.tag.clone())
            .unwrap_or_else(|| "latest".to_owned())
    }

    /// The tag shown in listings: the written tag, or `latest` (`<none>` for a digest alone).
    pub fn display_tag(&self) -> &str {
        match (&self.tag, &self.digest) {
            (Some(tag), _) => tag,
            (None, Some(_)) => "<none>",
            (None, None) => "latest",
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(image: &str) -> (String, String) {
        let r = Reference::parse(image);
        (r.repository.clone(), r.tag_or_digest())
    }

    #[test]
    fn references_split_into_repository_and_tag() {
        assert_eq!(parts("postgres"), ("postgres".into(), "latest".into()));
        assert_eq!(parts("postgres:16"), ("postgres".into(), "16".into()));
        assert_eq!(
            parts("localhost:5000/app"),
            ("localhost:5000/app".into(), "latest".into())
        );
        assert_eq!(
            parts("localhost:5000/app:1"),
            ("localhost:5000/app".into(), "1".into())
        );
        assert_eq!(parts("app@sha256:abc"), ("app".into(), "sha256:abc".into()));
        let both = Reference::parse("localhost:5000/app:1@sha256:abc");
        assert_eq!(both.tag.as_deref(), Some("1"));
        assert_eq!(both.digest.as_deref(), Some("sha256:abc"));
        assert_eq!(both.to_string(), "localhost:5000/app:1@sha256:abc");
        assert_eq!(
            Reference::parse("localhost:5000/app").display_tag(),
            "latest"
        );
    }
}
