//! `images`: the images the project's containers run.

use super::{table, Context};
use crate::{cli::ServicesArgs, engine::EngineError, Error};

/// `images`.
pub async fn run(ctx: &Context, args: &ServicesArgs) -> Result<i32, Error> {
    let containers = ctx.containers(&args.services, true, false).await?;
    let mut rows = Vec::new();
    for c in &containers {
        let image = ctx
            .engine
            .docker
            .inspect_image(&c.image)
            .await
            .map_err(EngineError::api(format!(
                "could not inspect image {}",
                c.image
            )))?;
        let (repo, tag) = c.image.rsplit_once(':').unwrap_or((&c.image, "latest"));
        let id = image.id.unwrap_or_default();
        let short = id.trim_start_matches("sha256:").chars().take(12).collect();
        let size = super::down::human_size(image.size);
        rows.push(vec![
            c.name.clone(),
            repo.to_owned(),
            tag.to_owned(),
            short,
            size,
        ]);
    }
    table(
        &mut std::io::stdout().lock(),
        &["CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE"],
        &rows,
    )?;
    Ok(0)
}
