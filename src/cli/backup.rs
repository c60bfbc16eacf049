//! `tgscript backup FILE`: a consistent copy of the state database, taken while `run` keeps
//! writing (see [`crate::store::backup`]).

use crate::app::{AppError, store_path};
use crate::config::Config;
use std::path::PathBuf;

/// Arguments of `backup`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Restore: stop `tgscript run`, replace the database ([store] path, default \
state.db in the data dir) with the copy, and start again. The inbox in the copy holds every \
update acknowledged before the backup began."
)]
pub struct BackupArgs {
    /// Where the copy goes (written beside it first, moved into place when complete).
    pub file: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

pub(super) fn backup(config: &Config, args: BackupArgs) -> anyhow::Result<u8> {
    if config.store.url.is_some() {
        return Err(AppError::Config(
            "the store is a PostgreSQL database ([store] url): back it up with pg_dump".into(),
        )
        .into());
    }
    let source = store_path(config);
    let report = crate::store::backup(&source, &args.file, args.force).map_err(|e| match e {
        crate::store::StoreError::Backup(_) => AppError::Config(e.to_string()),
        other => AppError::Failed(other.to_string()),
    })?;
    eprintln!(
        "backed up {} to {}: {} pages, {:.1} MiB, in {} ms",
        source.display(),
        args.file.display(),
        report.pages,
        report.bytes as f64 / (1024.0 * 1024.0),
        report.took.as_millis()
    );
    Ok(0)
}
