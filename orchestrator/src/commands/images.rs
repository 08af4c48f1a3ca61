//! `images`: the images the project's containers run.

use super::{
    format::{human_size, table},
    Context,
};
use crate::{
    cli::ServicesArgs,
    engine::{images, EngineError},
    project::reference::Reference,
    Error,
};

/// `images`.
pub async fn run(ctx: &Context, args: &ServicesArgs) -> Result<i32, Error> {
    let containers = ctx.containers(&args.services, true, false).await?;
    let mut rows = Vec::new();
    for c in &containers {
        let image = images::inspect(&ctx.engine, &c.image)
            .await?
            .ok_or_else(|| {
                EngineError::Incomplete(format!("the image {} of {}", c.image, c.name))
            })?;
        let reference = Reference::parse(&c.image);
        let short = image
            .id
            .trim_start_matches("sha256:")
            .chars()
            .take(12)
            .collect();
        rows.push(vec![
            c.name.clone(),
            reference.repository.clone(),
            reference.display_tag().to_owned(),
            short,
            human_size(image.size),
        ]);
    }
    table(
        &mut std::io::stdout().lock(),
        &["CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE"],
        &rows,
    )?;
    Ok(0)
}
