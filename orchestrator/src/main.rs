//! `orchestrator`: parse the command line, load the project, run the verb, report problems.

use std::{collections::BTreeMap, process::ExitCode};

use clap::Parser;
use orchestrator::{
    cli::{Cli, Command},
    commands::{self, Context},
    engine::Engine,
    progress::Progress,
    project::{self, Diagnostic, LoadError, LoadOptions},
    Error,
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
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
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

/// Prints an error once: its message, then each cause in its chain that adds something.
fn report(e: &Error) {
    if let Error::Load(LoadError::Invalid { diagnostics }) = e {
        for d in diagnostics.iter().filter(|d| !d.is_error()) {
            print_diagnostic(d);
        }
        for d in diagnostics.iter().filter(|d| d.is_error()) {
            print_diagnostic(d);
        }
    }
    let mut message = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let text = c.to_string();
        if !message.contains(&text) {
            message = format!("{message}: {text}");
        }
        cause = c.source();
    }
    eprintln!("error: {message}");
}

fn run(cli: Cli) -> Result<i32, Error> {
    let args = cli.project;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if let Command::Ls(ls) = &cli.command {
        return runtime.block_on(async {
            let engine = Engine::connect().await?;
            commands::ls::run(&engine, ls).await
        });
    }
    let options = LoadOptions {
        files: args.files,
        project_name: args.project_name,
        project_directory: args.project_directory,
        env_file: args.env_file,
        profiles: args.profiles,
        strict: args.strict,
        no_interpolate: matches!(&cli.command, Command::Config(c) if c.no_interpolate),
        environment: std::env::vars().collect::<BTreeMap<_, _>>(),
        cwd: std::env::current_dir()?,
    };
    let loaded = project::load(&options)?;
    for warning in &loaded.warnings {
        print_diagnostic(warning);
    }
    if let Command::Config(config) = &cli.command {
        runtime.block_on(commands::config::run(
            &loaded,
            config,
            &mut std::io::stdout().lock(),
        ))?;
        return Ok(0);
    }
    if let Command::Convert(convert) = &cli.command {
        commands::convert::run(&loaded, convert, &mut std::io::stdout().lock())?;
        return Ok(0);
    }
    runtime.block_on(async {
        let engine = Engine::connect().await?;
        let ctx = Context {
            loaded,
            engine,
            progress: Progress::new(args.progress),
            dry_run: args.dry_run,
            no_stand_ins: args.no_stand_ins,
        };
        match &cli.command {
            Command::Config(_) | Command::Ls(_) | Command::Convert(_) => {
                unreachable!("handled above")
            }
            Command::Up(a) => commands::up::run(&ctx, a).await,
            Command::Down(a) => commands::down::run(&ctx, a).await,
            Command::Ps(a) => commands::ps::run(&ctx, a).await,
            Command::Logs(a) => commands::logs::run(&ctx, a).await,
            Command::Build(a) => commands::build::run(&ctx, a).await,
            Command::Pull(a) => commands::pull::run(&ctx, a).await,
            Command::Start(a) => commands::lifecycle::start(&ctx, a).await,
            Command::Stop(a) => commands::lifecycle::stop(&ctx, a).await,
            Command::Restart(a) => commands::lifecycle::restart(&ctx, a).await,
            Command::Kill(a) => commands::lifecycle::kill(&ctx, a).await,
            Command::Rm(a) => commands::rm::run(&ctx, a).await,
            Command::Exec(a) => commands::exec::run(&ctx, a).await,
            Command::Run(a) => commands::run::run(&ctx, a).await,
            Command::Port(a) => commands::port::run(&ctx, a).await,
            Command::Images(a) => commands::images::run(&ctx, a).await,
            Command::Top(a) => commands::top::run(&ctx, a).await,
            Command::Swarm(a) => commands::swarm::run(&ctx, a).await,
        }
    })
}
