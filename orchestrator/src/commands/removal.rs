//! What `down -v` and `rm -v` show and ask before they remove volumes: each volume with what
//! it holds and its size, and the user's agreement (or `--yes`).

use super::{confirm, format::human_size};
use crate::{
    engine::{
        labels,
        resources::{self, VolumeInfo},
    },
    Error,
};

/// A volume `down -v` or `rm -v` would remove.
pub struct DoomedVolume {
    pub name: String,
    /// What it is: `named volume data` or `anonymous volume of db-1 at /var/lib/...`.
    pub what: String,
    pub size: Option<i64>,
}

impl DoomedVolume {
    /// Describes a volume of the project by its labels, with its size.
    pub async fn describe(volume: VolumeInfo) -> Self {
        let label = |key: &str| volume.labels.get(key).map(String::as_str);
        let what = match (label(labels::VOLUME), label(labels::ANONYMOUS_PATH)) {
            (Some(key), _) => format!("named volume {key}"),
            (None, Some(path)) => format!(
                "anonymous volume of {}-{} at {path}",
                label(labels::SERVICE).unwrap_or("?"),
                label(labels::NUMBER).unwrap_or("?"),
            ),
            _ => "volume".into(),
        };
        Self {
            size: resources::volume_size(&volume.mountpoint).await,
            name: volume.name,
            what,
        }
    }
}

/// Lists the volumes, asks on a terminal, refuses without one unless `yes`.
pub fn agree_to_remove(volumes: &[DoomedVolume], yes: bool) -> Result<(), Error> {
    if volumes.is_empty() || yes {
        return Ok(());
    }
    eprintln!("These volumes and all the data in them will be removed:");
    for v in volumes {
        eprintln!("  {}  ({}, {})", v.name, v.what, human_size(v.size));
    }
    match confirm("Remove them?") {
        Some(true) => Ok(()),
        Some(false) => Err(Error::Refused("nothing was removed".into())),
        None => Err(Error::Refused(
            "refusing to remove volumes without a terminal to confirm on: pass --yes to remove them; nothing was removed".into(),
        )),
    }
}
