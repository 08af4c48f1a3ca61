//! Building a service's image: the context is streamed to the engine as a tar, honouring
//! `.dockerignore`, never held whole in memory; the engine's output drives a progress bar and
//! is shown in full with `--progress plain` or when the build fails.

use std::{
    collections::HashMap,
    io::Write,
    path::{Path, PathBuf},
};

use bollard::query_parameters::BuildImageOptions;
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::{dockerignore::Ignore, labels, Engine, EngineError};
use crate::{progress::Progress, project::model::Build};

/// What to build and how.
pub struct BuildRequest<'a> {
    pub project: &'a str,
    pub service: &'a str,
    pub build: &'a Build,
    pub tag: String,
    pub no_cache: bool,
    pub pull: bool,
}

/// Size of the chunks the context is sent in; at most a few are in flight at once.
const CHUNK: usize = 64 * 1024;

/// A `Write` that hands full chunks to the async side, blocking when it is behind.
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let chunk = Bytes::from(std::mem::take(&mut self.buf));
            self.tx
                .blocking_send(Ok(chunk))
                .map_err(|_| std::io::Error::other("the engine stopped reading the context"))?;
        }
        Ok(())
    }
}

/// Reads `.dockerignore` at the context root, if any.
pub fn read_ignore(context: &Path) -> Result<Ignore, EngineError> {
    let path = context.join(".dockerignore");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            Ignore::parse(&text).map_err(|e| EngineError::Build(format!("{}: {e}", path.display())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Ignore::default()),
        Err(source) => Err(EngineError::Context {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// The files of the context that are sent, relative and `/`-separated, in tar order.
/// Directories that `.dockerignore` excludes whole are not even read.
pub fn context_files(
    context: &Path,
    ignore: &Ignore,
    dockerfile: &str,
) -> Result<Vec<String>, EngineError> {
    let mut out = Vec::new();
    let always = [dockerfile.trim_start_matches("./"), ".dockerignore"];
    walk(context, context, ignore, &always, &mut out)?;
    Ok(out)
}

fn walk(
    root: &Path,
    dir: &Path,
    ignore: &Ignore,
    always: &[&str],
    out: &mut Vec<String>,
) -> Result<(), EngineError> {
    let io_err = |source| EngineError::Context {
        path: dir.display().to_string(),
        source,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io_err)?
        .collect::<Result<_, _>>()
        .map_err(io_err)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let file_type = entry.file_type().map_err(io_err)?;
        if file_type.is_dir() {
            if ignore.can_skip_dir(&rel) {
                continue;
            }
            if !ignore.is_excluded(&rel) {
                out.push(format!("{rel}/"));
            }
            walk(root, &path, ignore, always, out)?;
        } else if !ignore.is_excluded(&rel) || always.contains(&rel.as_str()) {
            out.push(rel);
        }
    }
    Ok(())
}

/// Streams the context as a tar from a blocking thread; the receiver is the request body.
fn stream_context(
    context: PathBuf,
    files: Vec<String>,
) -> mpsc::Receiver<Result<Bytes, std::io::Error>> {
    let (tx, rx) = mpsc::channel(4);
    std::thread::spawn(move || {
        let writer = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        let mut tar = tar::Builder::new(writer);
        tar.follow_symlinks(false);
        let result = (|| -> std::io::Result<()> {
            for rel in &files {
                let path = context.join(rel.trim_end_matches('/'));
                if rel.ends_with('/') {
                    tar.append_dir(rel.trim_end_matches('/'), &path)?;
                } else {
                    tar.append_path_with_name(&path, rel)?;
                }
            }
            tar.into_inner()?.flush()
        })();
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(e));
        }
    });
    rx
}

/// Builds one image, tagging it `request.tag`. Returns the image ID.
pub async fn build(
    engine: &Engine,
    request: &BuildRequest<'_>,
    progress: &Progress,
) -> Result<String, EngineError> {
    let context = request.build.context.clone();
    if !context.is_dir() {
        return Err(EngineError::Build(format!(
            "service {}: the build context {} is not a directory (remote contexts are not supported yet)",
            request.service,
            context.display()
        )));
    }
    let ignore = read_ignore(&context)?;
    let files = {
        let context = context.clone();
        let dockerfile = request.build.dockerfile.clone();
        tokio::task::spawn_blocking(move || context_files(&context, &ignore, &dockerfile))
            .await
            .map_err(|e| EngineError::Build(e.to_string()))??
    };
    if !files
        .iter()
        .any(|f| f == request.build.dockerfile.trim_start_matches("./"))
    {
        return Err(EngineError::Build(format!(
            "service {}: no {} in the build context {}",
            request.service,
            request.build.dockerfile,
            context.display()
        )));
    }
    let body = tokio_stream_from(stream_context(context, files));
    let options = BuildImageOptions {
        dockerfile: request.build.dockerfile.clone(),
        t: Some(request.tag.clone()),
        nocache: request.no_cache,
        pull: request.pull.then(|| "1".to_owned()),
        rm: true,
        forcerm: true,
        buildargs: Some(
            request
                .build
                .args
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
                .collect(),
        ),
        labels: Some(
            request
                .build
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .chain([
                    (labels::PROJECT.to_owned(), request.project.to_owned()),
                    (labels::SERVICE.to_owned(), request.service.to_owned()),
                ])
                .collect::<HashMap<_, _>>(),
        ),
        target: request.build.target.clone().unwrap_or_default(),
        ..Default::default()
    };
    let bar = progress.bar(1, format!("Building {}", request.service));
    let mut output: Vec<String> = Vec::new();
    let mut image_id = None;
    let mut stream = engine
        .docker
        .build_image(options, None, Some(bollard::body_try_stream(body)));
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| {
            EngineError::Build(format!(
                "building service {} failed: {}\n{}",
                request.service,
                super::root_cause(&e),
                tail(&output)
            ))
        })?;
        if let Some(detail) = info.error_detail {
            let message = detail.message.unwrap_or_else(|| "unknown error".into());
            return Err(EngineError::Build(format!(
                "building service {} failed: {message}\n{}",
                request.service,
                tail(&output)
            )));
        }
        if let Some(text) = info.stream {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                if let Some((n, m)) = step(line) {
                    bar.set(n.saturating_sub(1), m);
                    bar.message(format!("Building {}: {}", request.service, line.trim()));
                }
                if progress.is_plain() {
                    progress.note(format!("#{} {line}", request.service));
                }
                output.push(line.to_owned());
            }
        }
        if let Some(id) = info.aux.and_then(|a| a.id) {
            image_id = Some(id);
        }
    }
    drop(bar);
    progress.event("Image", &request.tag, "Built");
    match image_id {
        Some(id) => Ok(id),
        None => engine
            .docker
            .inspect_image(&request.tag)
            .await
            .map_err(EngineError::api(format!(
                "could not inspect the built image {}",
                request.tag
            )))?
            .id
            .ok_or_else(|| {
                EngineError::Build(format!("the engine gave no ID for {}", request.tag))
            }),
    }
}

fn tokio_stream_from(
    mut rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// The images a Dockerfile starts `FROM`, with `ARG`s before the first `FROM` resolved from the
/// build's args or their defaults; stage names and `scratch` are left out.
pub fn base_images(
    dockerfile: &str,
    args: &std::collections::BTreeMap<String, Option<String>>,
) -> Vec<String> {
    let joined = dockerfile.replace("\\\n", " ");
    let mut globals: HashMap<String, String> = HashMap::new();
    let mut stages: Vec<String> = Vec::new();
    let mut images = Vec::new();
    let mut seen_from = false;
    for line in joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let mut words = line.split_whitespace();
        let instruction = words.next().unwrap_or("").to_ascii_uppercase();
        match instruction.as_str() {
            "ARG" if !seen_from => {
                if let Some(decl) = words.next() {
                    let (name, default) = decl.split_once('=').unwrap_or((decl, ""));
                    let value = args
                        .get(name)
                        .cloned()
                        .flatten()
                        .unwrap_or_else(|| default.trim_matches('"').to_owned());
                    globals.insert(name.to_owned(), value);
                }
            }
            "FROM" => {
                seen_from = true;
                let rest: Vec<&str> = words.filter(|w| !w.starts_with("--")).collect();
                let Some(raw) = rest.first() else { continue };
                let image = substitute_args(raw, &globals);
                // A FROM naming an earlier stage builds on it, not on an image.
                let is_stage = stages.contains(&image.to_ascii_lowercase());
                if image != "scratch" && !image.is_empty() && !is_stage && !images.contains(&image)
                {
                    images.push(image);
                }
                if let (Some(as_kw), Some(stage)) = (rest.get(1), rest.get(2)) {
                    if as_kw.eq_ignore_ascii_case("as") {
                        stages.push(stage.to_ascii_lowercase());
                    }
                }
            }
            _ => {}
        }
    }
    images
}

/// `${NAME}`, `$NAME` and `${NAME:-default}` from the global ARGs.
fn substitute_args(text: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}').unwrap_or(body.len());
            let inner = &body[..end];
            let (name, default) = inner.split_once(":-").unwrap_or((inner, ""));
            let value = vars
                .get(name)
                .filter(|v| !v.is_empty())
                .cloned()
                .unwrap_or_else(|| default.to_owned());
            out.push_str(&value);
            rest = body.get(end + 1..).unwrap_or("");
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            out.push_str(vars.get(&after[..len]).map(String::as_str).unwrap_or(""));
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    out
}

/// `Step 3/9 : RUN ...` -> (3, 9).
fn step(line: &str) -> Option<(u64, u64)> {
    let rest = line.trim().strip_prefix("Step ")?;
    let (frac, _) = rest.split_once(' ')?;
    let (n, m) = frac.split_once('/')?;
    Some((n.parse().ok()?, m.parse().ok()?))
}

/// The last lines of the build's output, for an error message.
fn tail(output: &[String]) -> String {
    let start = output.len().saturating_sub(30);
    output[start..]
        .iter()
        .map(|l| format!("  | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_leaves_out_what_dockerignore_excludes_but_never_the_dockerfile() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (path, text) in [
            ("Dockerfile", "FROM scratch"),
            (
                ".dockerignore",
                "target\n.git\n*.md\nDockerfile\n!README.md\n",
            ),
            ("src/main.rs", "fn main() {}"),
            ("target/debug/huge", "x"),
            (".git/HEAD", "ref"),
            ("NOTES.md", "x"),
            ("README.md", "x"),
        ] {
            let p = root.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let ignore = read_ignore(root).unwrap();
        let files = context_files(root, &ignore, "Dockerfile").unwrap();
        assert_eq!(
            files,
            [
                ".dockerignore",
                "Dockerfile",
                "README.md",
                "src/",
                "src/main.rs"
            ]
        );
    }

    #[test]
    fn base_images_resolve_args_and_skip_stages() {
        let dockerfile = "ARG RUST_IMAGE=rust:1-bookworm\nARG RUNTIME_IMAGE=debian:bookworm-slim\n\
            FROM ${RUST_IMAGE} AS builder\nRUN build\nFROM builder AS tested\n\
            FROM --platform=linux/amd64 $RUNTIME_IMAGE\nCOPY --from=builder /a /a\nFROM scratch\n";
        let none = std::collections::BTreeMap::new();
        assert_eq!(
            base_images(dockerfile, &none),
            ["rust:1-bookworm", "debian:bookworm-slim"]
        );
        let args = std::collections::BTreeMap::from([(
            "RUST_IMAGE".to_string(),
            Some("rust:1.90".to_string()),
        )]);
        assert_eq!(
            base_images(dockerfile, &args),
            ["rust:1.90", "debian:bookworm-slim"]
        );
        assert_eq!(base_images("FROM ${IMG:-alpine:3}\n", &none), ["alpine:3"]);
    }

    #[test]
    fn build_steps_are_read_from_the_classic_builders_output() {
        assert_eq!(step("Step 3/9 : RUN cargo build"), Some((3, 9)));
        assert_eq!(step(" ---> Running in abc"), None);
    }
}
