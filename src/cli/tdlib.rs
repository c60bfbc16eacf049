//! `tgscript tdlib install` / `tdlib path`: obtain libtdjson 1.8.61, show which one loads.

use super::TdlibCommand;
use crate::accounts::tdjson::{self, NPM_PACKAGE, TDLIB_VERSION};
use crate::config::{Config, data_dir};
use std::path::Path;
use std::process::Command;

pub(super) fn tdlib(config: &Config, command: TdlibCommand) -> anyhow::Result<u8> {
    match command {
        TdlibCommand::Install => install(&data_dir()),
        TdlibCommand::Path => path(config),
    }
    .map_err(anyhow::Error::msg)?;
    Ok(0)
}

fn path(config: &Config) -> anyhow::Result<()> {
    let candidates = tdjson::candidates(config.tdlib_path.as_deref(), &data_dir());
    let lib = tdjson::find(&candidates)?;
    println!("{} (TDLib {})", lib.path.display(), lib.version);
    Ok(())
}

/// `npm pack` the prebuilt package into a temporary folder, unpack it, check the version the
/// library reports, and copy it into the data dir.
pub fn install(data_dir: &Path) -> anyhow::Result<()> {
    if !(cfg!(target_os = "linux") && cfg!(target_arch = "x86_64")) {
        anyhow::bail!(
            "prebuilt libtdjson is installed for Linux x86-64 only; build TDLib {TDLIB_VERSION} and set TDJSON_PATH"
        );
    }
    let work = tempfile::tempdir()
        .map_err(|e| anyhow::anyhow!("cannot create a temporary folder: {e}"))?;
    eprintln!("fetching {NPM_PACKAGE} with npm pack …");
    let packed = Command::new("npm")
        .args(["pack", NPM_PACKAGE, "--silent", "--pack-destination"])
        .arg(work.path())
        .current_dir(work.path())
        .output()
        .map_err(|e| {
            anyhow::anyhow!("cannot run npm ({e}): install Node.js and npm, or put libtdjson {TDLIB_VERSION} at TDJSON_PATH")
        })?;
    if !packed.status.success() {
        anyhow::bail!(
            "npm pack {NPM_PACKAGE} failed: {}",
            String::from_utf8_lossy(&packed.stderr).trim()
        );
    }
    let tarball = std::fs::read_dir(work.path())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "tgz"))
        .ok_or_else(|| anyhow::anyhow!("npm pack produced no .tgz"))?;
    let unpacked = Command::new("tar")
        .args(["-xzf"])
        .arg(&tarball)
        .arg("-C")
        .arg(work.path())
        .status()
        .map_err(|e| anyhow::anyhow!("cannot run tar: {e}"))?;
    if !unpacked.success() {
        anyhow::bail!("cannot unpack {}", tarball.display());
    }
    let library = work.path().join("package").join(tdjson::LIBRARY_FILE);
    let opened = tdjson::open(&library)?;
    let target = tdjson::installed_path(data_dir);
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    let partial = target.with_extension("so.partial");
    std::fs::copy(&library, &partial)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", partial.display()))?;
    std::fs::rename(&partial, &target)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", target.display()))?;
    println!("installed TDLib {} at {}", opened.version, target.display());
    Ok(())
}
