//! `config`: the normalized project, or one list from it. Its YAML loads back as the same
//! project; `--hash` and `--resolve-image-digests` ask the engine about images, nothing else
//! does.

use std::io::Write;

use crate::{
    cli::{ConfigArgs, Format},
    engine::{hash, images, Engine, EngineError},
    project::{self, reference::Reference, services, Loaded, Project},
    Error,
};

/// Prints what `args` asks for to `out`.
pub async fn run(loaded: &Loaded, args: &ConfigArgs, out: &mut dyn Write) -> Result<(), Error> {
    let project = &loaded.project;
    if args.quiet {
        return Ok(());
    }
    if let Some(selection) = &args.hash {
        let engine = Engine::connect().await?;
        for line in hashes(&engine, loaded, selection).await? {
            writeln!(out, "{line}")?;
        }
        return Ok(());
    }
    let lines: Option<Vec<String>> = if args.services {
        Some(loaded.start_order.clone())
    } else if args.volumes {
        Some(project.volumes.keys().cloned().collect())
    } else if args.images {
        Some(
            loaded
                .start_order
                .iter()
                .map(|s| project.image_name(s))
                .collect(),
        )
    } else {
        None
    };
    match lines {
        Some(lines) => {
            for line in lines {
                writeln!(out, "{line}")?;
            }
        }
        None => {
            let mut pinned;
            let mut project = project;
            if args.resolve_image_digests {
                let engine = Engine::connect().await?;
                pinned = project.clone();
                pin_digests(&engine, &mut pinned).await?;
                project = &pinned;
            }
            let tree = match &loaded.verbatim {
                Some(document) => document.clone(),
                None => project::printable(project)?,
            };
            let text = match args.format {
                Format::Yaml => project::to_yaml(&tree)?,
                Format::Json => {
                    serde_json::to_string_pretty(&tree).map_err(|e| Error::Output(e.to_string()))?
                        + "\n"
                }
            };
            out.write_all(text.as_bytes())?;
        }
    }
    Ok(())
}

/// `SERVICE HASH` for the services `selection` names (`*` for all, else a comma list), each
/// the hash `up` would compute with the image the engine has now.
async fn hashes(engine: &Engine, loaded: &Loaded, selection: &str) -> Result<Vec<String>, Error> {
    let project = &loaded.project;
    let names: Vec<String> = if selection.trim() == "*" {
        loaded.start_order.clone()
    } else {
        selection
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    services::check(project, &names).map_err(EngineError::from)?;
    let mut lines = Vec::new();
    for name in names {
        let image = project.image_name(&name);
        let info =
            images::inspect(engine, &image)
                .await?
                .ok_or_else(|| EngineError::ImageAbsent {
                    image: image.clone(),
                    service: name.clone(),
                    why: "its hash depends on the image ID (build or pull it first)",
                })?;
        let aliases = services::link_aliases(project, &name);
        let digest =
            hash::config_hash(project, &name, &project.services[&name], &info.id, &aliases);
        lines.push(format!("{name} {digest}"));
    }
    Ok(lines)
}

/// Writes `image@digest` for every image the engine knows a digest of.
async fn pin_digests(engine: &Engine, project: &mut Project) -> Result<(), Error> {
    for (name, service) in project.services.iter_mut() {
        let Some(image) = service.image.clone() else {
            continue;
        };
        if image.contains('@') {
            continue;
        }
        let Some(info) = images::inspect(engine, &image).await? else {
            tracing::warn!(service = %name, %image, "not on the engine; printed without a digest");
            continue;
        };
        if let Some(digest) = digest_for(&image, &info.repo_digests) {
            service.image = Some(format!("{image}@{digest}"));
        }
    }
    Ok(())
}

/// The digest among an image's `RepoDigests` (`repo@sha256:...`) that belongs to the
/// repository `image` names (with or without a tag).
fn digest_for(image: &str, repo_digests: &[String]) -> Option<String> {
    let wanted = Reference::parse(image).repository;
    repo_digests
        .iter()
        .map(|entry| Reference::parse(entry))
        .find(|r| r.repository == wanted)
        .and_then(|r| r.digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_the_one_of_the_named_repository() {
        let digests = vec![
            "registry.local/nginx@sha256:aaa".to_owned(),
            "nginx@sha256:bbb".to_owned(),
        ];
        assert_eq!(
            digest_for("nginx:1.27", &digests).as_deref(),
            Some("sha256:bbb")
        );
        assert_eq!(digest_for("nginx", &digests).as_deref(), Some("sha256:bbb"));
        assert_eq!(
            digest_for("registry.local/nginx:1", &digests).as_deref(),
            Some("sha256:aaa")
        );
        assert_eq!(digest_for("nginx-extra:1", &digests), None);
        assert_eq!(digest_for("busybox", &[]), None);
    }
}
