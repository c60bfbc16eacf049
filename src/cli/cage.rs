//! `tgscript cage`: start one script worker as `run` and `serve` would (with this config's
//! `[scripts]`) and print each layer of its cage: what this kernel enforces, and what it
//! cannot. Exit code 1 when a layer is not in force.

use super::EXIT_FAILURE;
use crate::app::{AppError, worker_pool};
use crate::config::Config;

pub(super) fn cage(config: &Config) -> anyhow::Result<u8> {
    let pool = worker_pool(config)?;
    let confinement = pool.start().map_err(|e| AppError::Failed(e.to_string()))?;
    let kernel = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_else(|_| "unknown".into());
    outln!(
        "A script worker's cage on this machine (Linux {kernel}, tgscript as uid {}):",
        nix::unistd::geteuid()
    )?;
    let width = confinement
        .layers
        .iter()
        .map(|layer| layer.name.len())
        .max()
        .unwrap_or_default();
    for layer in &confinement.layers {
        let state = match layer.enforced {
            true => "in force",
            false => "NOT IN FORCE",
        };
        outln!("  {:width$}  {state:12}  {}", layer.name, layer.detail)?;
    }
    Ok(
        match confinement.layers.iter().all(|layer| layer.enforced) {
            true => 0,
            false => EXIT_FAILURE,
        },
    )
}
