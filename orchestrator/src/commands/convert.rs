//! `convert --to kubernetes`: the loaded project as Kubernetes objects, on stdout or one file
//! per object in a folder. No engine is involved.

use std::{io::Write, path::Path};

use crate::{
    cli::{ConvertArgs, ConvertTarget},
    convert::{self, Conversion, Options},
    project::Loaded,
    Error,
};

/// The options `args` describe, with the process environment for secrets taken from variables.
pub fn options(args: &ConvertArgs) -> Options {
    Options {
        published: args.publish_as,
        image_prefix: args.image_prefix.clone(),
        secret_env: args.secret_env.clone(),
        volume_size: args.volume_size.clone(),
        environment: std::env::vars().collect(),
    }
}

/// Converts, prints what did not convert to stderr, and writes the objects: to `out` when
/// `--output` is `-`, else into that folder.
pub fn run(loaded: &Loaded, args: &ConvertArgs, out: &mut dyn Write) -> Result<(), Error> {
    let conversion = match args.to {
        ConvertTarget::Kubernetes => convert::kubernetes(loaded, &options(args))?,
    };
    for warning in &conversion.warnings {
        eprintln!("warning: {warning}");
    }
    if args.output == Path::new("-") {
        out.write_all(conversion.to_yaml()?.as_bytes())?;
        return Ok(());
    }
    write_folder(&conversion, &args.output)
}

/// One file per object in `dir`, made if missing.
fn write_folder(conversion: &Conversion, dir: &Path) -> Result<(), Error> {
    let failed = |e: std::io::Error| Error::Output(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(failed)?;
    let files = conversion.files()?;
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).map_err(failed)?;
    }
    eprintln!("wrote {} files to {}", files.len(), dir.display());
    Ok(())
}
