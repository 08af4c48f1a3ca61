//! `orchestrator`: parse the command line, load the project, run the verb, report problems.

use std::{collections::BTreeMap, process::ExitCode};

use clap::Parser;
use orchestrator::{
    cli::{Cli, Command},
    commands,
    project::{self, Diagnostic, LoadError, LoadOptions},
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ORCHESTRATOR_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

fn print_diagnostic(d: &Diagnostic) {
    let label = if d.is_error() { "error" } else { "warning" };
    eprintln!("{label}: {d}");
}

fn report(e: &anyhow::Error) {
    if let Some(orchestrator::Error::Load(LoadError::Invalid { diagnostics })) =
        e.downcast_ref::<orchestrator::Error>()
    {
        for d in diagnostics.iter().filter(|d| !d.is_error()) {
            print_diagnostic(d);
        }
        for d in diagnostics.iter().filter(|d| d.is_error()) {
            print_diagnostic(d);
        }
    }
    eprintln!("error: {e:#}");
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let args = cli.project;
    let options = LoadOptions {
        files: args.files,
        project_name: args.project_name,
        project_directory: args.project_directory,
        env_file: args.env_file,
        profiles: args.profiles,
        strict: args.strict,
        environment: std::env::vars().collect::<BTreeMap<_, _>>(),
        cwd: std::env::current_dir()?,
    };
    let loaded = project::load(&options).map_err(orchestrator::Error::from)?;
    for warning in &loaded.warnings {
        print_diagnostic(warning);
    }
    match cli.command {
        Command::Config(config) => {
            commands::config::run(&loaded, &config, &mut std::io::stdout().lock())?
        }
    }
    Ok(())
}
