//! `tgscript backup`: a consistent copy of the database taken while `run` keeps writing to
//! it, through SQLite's online backup API. The copy is one read snapshot (WAL readers do
//! not stop writers), written beside the target and renamed into place only once it is
//! complete and passes SQLite's integrity check, so a crash never leaves half a backup.

use super::StoreError;
use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What a backup copied.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupReport {
    /// Pages copied.
    pub pages: i32,
    /// Bytes the copy holds.
    pub bytes: u64,
    /// How long it took.
    pub took: Duration,
}

/// Copy the database at `source` to `target` (which must not exist yet unless `replace`).
pub fn backup(source: &Path, target: &Path, replace: bool) -> Result<BackupReport, StoreError> {
    let started = Instant::now();
    let failed = |what: String| StoreError::Backup(what);
    if !source.is_file() {
        return Err(failed(format!(
            "no database at {} (set [store] path, or TGSCRIPT_DATA_DIR)",
            source.display()
        )));
    }
    if target.exists() && !replace {
        return Err(failed(format!(
            "{} exists: choose another file, or pass --force to replace it",
            target.display()
        )));
    }
    let sqlite = |path: &Path| {
        let shown = path.display().to_string();
        move |source: rusqlite::Error| StoreError::Open {
            path: shown,
            source: source.into(),
        }
    };
    let from = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(sqlite(source))?;
    from.busy_timeout(Duration::from_secs(5))
        .map_err(sqlite(source))?;
    let partial = partial_path(target);
    let _ = std::fs::remove_file(&partial);
    // Readable by its owner only, as the database is (it may hold bot tokens).
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&partial)
            .map_err(|e| failed(format!("cannot write {}: {e}", partial.display())))?;
    }
    let mut to = Connection::open(&partial).map_err(sqlite(&partial))?;
    let pages = {
        let copy = Backup::new(&from, &mut to).map_err(sqlite(&partial))?;
        // All pages in one step: one read snapshot, so writes made meanwhile cannot make
        // the copy start over.
        copy.step(-1).map_err(sqlite(source))?;
        copy.progress().pagecount
    };
    let check: String = to
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(sqlite(&partial))?;
    drop(to);
    if check != "ok" {
        let _ = std::fs::remove_file(&partial);
        return Err(failed(format!(
            "the copy failed SQLite's integrity check: {check}"
        )));
    }
    std::fs::rename(&partial, target)
        .map_err(|e| failed(format!("cannot move the copy to {}: {e}", target.display())))?;
    let bytes = std::fs::metadata(target).map_or(0, |m| m.len());
    Ok(BackupReport {
        pages,
        bytes,
        took: started.elapsed(),
    })
}

/// Where the copy is written before it is complete: `<target>.partial`.
fn partial_path(target: &Path) -> PathBuf {
    let mut name = target.as_os_str().to_os_string();
    name.push(".partial");
    PathBuf::from(name)
}
