//! `port`: where a container port is published on the host.

use super::Context;
use crate::{cli::PortArgs, engine::EngineError, Error};

/// `port`.
pub async fn run(ctx: &Context, args: &PortArgs) -> Result<i32, Error> {
    let containers = ctx
        .containers(std::slice::from_ref(&args.service), true, false)
        .await?;
    let container = containers
        .iter()
        .find(|c| c.number == args.index)
        .ok_or_else(|| {
            EngineError::Failed(format!(
                "service {} has no container number {}",
                args.service, args.index
            ))
        })?;
    let inspect = ctx
        .engine
        .docker
        .inspect_container(&container.id, None)
        .await
        .map_err(EngineError::api(format!(
            "could not inspect {}",
            container.name
        )))?;
    let key = format!("{}/{}", args.port, args.protocol);
    let binding = inspect
        .network_settings
        .and_then(|n| n.ports)
        .and_then(|mut p| p.remove(&key))
        .flatten()
        .and_then(|b| b.into_iter().next())
        .ok_or_else(|| {
            EngineError::Failed(format!("{key} of {} is not published", container.name))
        })?;
    println!(
        "{}:{}",
        binding.host_ip.unwrap_or_else(|| "0.0.0.0".into()),
        binding.host_port.unwrap_or_default()
    );
    Ok(0)
}
