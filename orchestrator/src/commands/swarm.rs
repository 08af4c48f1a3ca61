//! `swarm up|ps|down`: the project on a Docker Swarm, through the manager that DOCKER_HOST
//! names. The verbs only read their arguments and print; `engine::swarm` decides and acts.

use std::{
    io::{IsTerminal, Write},
    time::Duration,
};

use clap::{Args, Subcommand};

use super::{
    follow::{self, LogOptions},
    format,
    removal::{agree_to_remove, DoomedVolume},
    Context,
};
use crate::{
    engine::{
        containers::LogRequest,
        images::{BuildPolicy, ImagePolicy},
        swarm::{self, spec::Layout, DeployRequest},
    },
    Error,
};

/// `swarm`'s verbs.
#[derive(Debug, Args)]
pub struct SwarmArgs {
    #[command(subcommand)]
    pub verb: SwarmVerb,
}

/// What to do on the swarm.
#[derive(Debug, Subcommand)]
pub enum SwarmVerb {
    /// Deploy the project as Swarm services named PROJECT_SERVICE, in dependency order.
    ///
    /// DOCKER_HOST must name a swarm manager (e.g. unix:///run/osw1/n1/docker.sock for a
    /// cluster of scripts/swarm-cluster). Images are built or found on the manager's engine,
    /// pushed to --registry and pinned to their digest. Each service with dependents is waited
    /// for (its tasks running, healthy where it has a health check) before the next one is
    /// deployed, and the others before it returns (unless -d): a release that does not start
    /// is rolled back by Swarm and reported with the task's error, exit 1. A second `swarm up`
    /// with nothing changed sends nothing. Every compose key
    /// Swarm cannot apply is named in a warning. With --dry-run, prints the plan and sends
    /// nothing.
    ///
    /// Example: DOCKER_HOST=unix:///run/osw1/n1/docker.sock orchestrator swarm up --registry
    /// 10.213.1.11:5000 --dnsrr
    Up(SwarmUpArgs),
    /// List the tasks of the project's services: node, desired and current state, error.
    Ps,
    /// Show the output of the project's tasks, each line behind SERVICE.SLOT.TASK@NODE.
    ///
    /// Read task by task, so it returns even while a task crash-loops (`docker service logs`
    /// can hang then): without -f, every task the manager still lists, earlier attempts of a
    /// crash loop too, each until its output so far is read (or 2 s pass with nothing new).
    /// With -f, the running tasks and each new one as Swarm starts it, until Ctrl-C.
    ///
    /// Example: orchestrator swarm logs -f --tail 20 app
    Logs(crate::cli::LogsArgs),
    /// Remove the project's services, networks, secrets and configs (volumes stay on their nodes). With
    /// --dry-run, prints what would be removed.
    Down(SwarmDownArgs),
}

/// `swarm up`'s options.
#[derive(Debug, Args, Clone, Default)]
pub struct SwarmUpArgs {
    /// Registry every node pulls from, HOST or HOST:PORT. Default: the in-swarm registry, a service
    /// (orchestrator-registry, image registry:2 on the manager) pinned to the manager and
    /// started if need be; nodes pull from 127.0.0.1:5000 through the routing mesh, or with
    /// --dnsrr from MANAGER:5000, which they must list in insecure-registries.
    #[arg(long, value_name = "HOST")]
    pub registry: Option<String>,
    /// The Docker Engine that builds (or finds) the images and pushes them, e.g.
    /// unix:///var/run/docker.sock for this machine's own, where the images and their build
    /// cache already are. Default: the manager's (DOCKER_HOST). An engine on this machine
    /// (unix://) pushes through a tunnel on 127.0.0.1, which Docker trusts without TLS, so it
    /// needs no insecure-registries entry for the in-swarm registry; any other must reach the
    /// registry itself.
    ///
    /// Example: DOCKER_HOST=unix:///run/osw1/n1/docker.sock orchestrator swarm up --dnsrr
    /// --build-host unix:///var/run/docker.sock
    #[arg(long, value_name = "DOCKER_HOST")]
    pub build_host: Option<String>,
    /// Run N replicas of SERVICE: SERVICE=N (repeatable), over the file's deploy.replicas.
    #[arg(long, value_name = "SERVICE=N", value_parser = crate::cli::parse_scale)]
    pub scale: Vec<(String, u32)>,
    /// Reach services by DNS round robin and publish ports on each node's own address (host
    /// mode, a task on every node), for nodes without IPVS, where Swarm's virtual IPs and
    /// ingress routing mesh do not work. Default: what the file says (VIP and ingress).
    #[arg(long)]
    pub dnsrr: bool,
    /// Remove the project's services that are no longer in the file.
    #[arg(long)]
    pub prune: bool,
    /// Return once the services are sent, without waiting for those nothing depends on to run.
    #[arg(short, long)]
    pub detach: bool,
    /// Build images before deploying, even if they exist.
    #[arg(long)]
    pub build: bool,
    /// How long each dependency's tasks may take to run, in seconds.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub wait_timeout: u64,
}

/// `swarm down`'s options.
#[derive(Debug, Args, Clone, Default)]
pub struct SwarmDownArgs {
    /// Remove the stack's volumes on the manager too (where Postgres and other stateful
    /// services are pinned unless the file says otherwise), after listing them with their
    /// sizes and asking; without a terminal, only with --yes. Volumes on other nodes cannot be
    /// reached through the manager: the nodes where tasks mounted one are named.
    #[arg(short, long)]
    pub volumes: bool,
    /// Remove the volumes without asking.
    #[arg(short, long)]
    pub yes: bool,
    /// How long to wait for a network's last task to go, in seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub timeout: u64,
}

/// Runs a `swarm` verb.
pub async fn run(ctx: &Context, args: &SwarmArgs) -> Result<i32, Error> {
    let project = ctx.project();
    match &args.verb {
        SwarmVerb::Up(up) => {
            let request = DeployRequest {
                layout: if up.dnsrr {
                    Layout::DnsrrHost
                } else {
                    Layout::AsWritten
                },
                registry: up.registry.clone(),
                build_host: up.build_host.clone(),
                scale: up.scale.iter().cloned().collect(),
                images: ImagePolicy {
                    build: if up.build {
                        BuildPolicy::Always
                    } else {
                        BuildPolicy::Missing
                    },
                    no_stand_ins: ctx.no_stand_ins,
                    ..ImagePolicy::default()
                },
                prune: up.prune,
                detach: up.detach,
                timeout: Duration::from_secs(up.wait_timeout),
                dry_run: ctx.dry_run,
            };
            let order = &ctx.loaded.start_order;
            let plan = swarm::deploy(&ctx.engine, project, order, &request, &ctx.progress).await?;
            print_dry_run(ctx, &plan)?;
        }
        SwarmVerb::Ps => {
            let rows: Vec<Vec<String>> = swarm::tasks(&ctx.engine, &project.name)
                .await?
                .into_iter()
                .map(|r| {
                    let slot = if r.slot == 0 {
                        "-".into()
                    } else {
                        r.slot.to_string()
                    };
                    vec![
                        r.service, slot, r.node, r.desired, r.state, r.error, r.image,
                    ]
                })
                .collect();
            let header = [
                "SERVICE", "SLOT", "NODE", "DESIRED", "STATE", "ERROR", "IMAGE",
            ];
            format::table(&mut std::io::stdout().lock(), &header, &rows)?;
        }
        SwarmVerb::Logs(logs) => {
            let since = super::logs::parse_since(logs.since.as_deref())?;
            let request = LogRequest {
                follow: logs.follow,
                tail: logs.tail.clone(),
                timestamps: logs.timestamps,
                since,
            };
            let output =
                swarm::logs::project_output(&ctx.engine, &project.name, &logs.services, &request)
                    .await?;
            let opts = LogOptions {
                follow: logs.follow,
                tail: logs.tail.clone(),
                timestamps: logs.timestamps,
                since,
                colour: !logs.no_color && std::io::stdout().is_terminal(),
                prefix: true,
            };
            follow::print(output, &[], &opts).await;
        }
        SwarmVerb::Down(down) => {
            let timeout = Duration::from_secs(down.timeout);
            // Asked before anything goes, so a refusal leaves the stack as it was.
            let mut doomed = Vec::new();
            let mut elsewhere = Default::default();
            if down.volumes {
                for v in swarm::manager_volumes(&ctx.engine, &project.name).await? {
                    doomed.push(DoomedVolume::describe(v).await);
                }
                elsewhere = swarm::other_volume_nodes(&ctx.engine, &project.name).await?;
                if !ctx.dry_run {
                    agree_to_remove(&doomed, down.yes)?;
                }
            }
            let plan =
                swarm::remove(&ctx.engine, project, timeout, ctx.dry_run, &ctx.progress).await?;
            print_dry_run(ctx, &plan)?;
            if down.volumes && !ctx.dry_run {
                let names: Vec<String> = doomed.into_iter().map(|v| v.name).collect();
                swarm::remove_volumes(&ctx.engine, &names, timeout, &ctx.progress).await?;
                if !elsewhere.is_empty() {
                    let nodes: Vec<String> = elsewhere.into_iter().collect();
                    ctx.progress.warn(format!(
                        "the stack's tasks also mounted volumes on {}: they stay there (docker -H NODE volume ls --filter label=com.docker.stack.namespace={})",
                        nodes.join(", "),
                        project.name
                    ));
                }
            }
        }
    }
    Ok(0)
}

/// With `--dry-run`, prints the plan that was decided and not sent.
fn print_dry_run(ctx: &Context, plan: &swarm::plan::Plan) -> Result<(), Error> {
    if ctx.dry_run {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "dry run: nothing is built, pushed or sent; the plan is"
        )?;
        write!(out, "{plan}")?;
    }
    Ok(())
}
