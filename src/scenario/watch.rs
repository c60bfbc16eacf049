//! Watching the scenario folder: file events (debounced) trigger [`Registry::reload`]. Editors'
//! save patterns — write in place, write a temporary file and rename it, backup and swap files
//! — all end in a reload of the right file; swap and backup files themselves are ignored. A
//! folder deleted and made again (a deploy that replaces it) is watched again once it is back.

use super::registry::Registry;
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the folder itself is looked at (deleted, or replaced by a new one).
pub const FOLDER_CHECK: Duration = Duration::from_millis(500);

/// A folder being watched; dropping it stops the watching.
pub struct Watch {
    _watcher: Arc<Mutex<RecommendedWatcher>>,
}

/// Which folder `dir` is now: its device, inode and birth time (`None` while it does not
/// exist). A folder made again may get the inode of the deleted one, not its birth time.
type Identity = (u64, u64, Option<std::time::SystemTime>);

fn identity(dir: &Path) -> Option<Identity> {
    std::fs::metadata(dir)
        .ok()
        .filter(|m| m.is_dir())
        .map(|m| (m.dev(), m.ino(), m.created().ok()))
}

/// Quiet time after the last event before reloading.
pub const DEBOUNCE: Duration = Duration::from_millis(25);

/// Whether a changed path can affect a scenario: a `.rhai` file that is not hidden, a swap or
/// a backup file.
pub fn is_relevant(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    !name.starts_with('.')
        && !name.starts_with('#')
        && path.extension().is_some_and(|e| e == "rhai")
}

/// Watch `dir` recursively and reload `registry` on relevant changes, and when the folder
/// is deleted or replaced, until the returned [`Watch`] is dropped.
pub fn watch(dir: &Path, registry: Arc<Registry>) -> notify::Result<Watch> {
    let (tx, mut events) = mpsc::unbounded_channel::<()>();
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
            Ok(event) if event.paths.iter().any(|p| is_relevant(p)) => {
                let _ = tx.send(());
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("file watcher: {e}"),
        })?;
    watcher.watch(dir, RecursiveMode::Recursive)?;
    let watcher = Arc::new(Mutex::new(watcher));
    let watching = Arc::downgrade(&watcher);
    let dir = dir.to_path_buf();
    tokio::spawn(async move {
        let mut folder = identity(&dir);
        let mut check = tokio::time::interval(FOLDER_CHECK);
        loop {
            tokio::select! {
                event = events.recv() => {
                    if event.is_none() {
                        return;
                    }
                    // Debounce: wait until the folder has been quiet for a moment.
                    while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, events.recv()).await {}
                }
                _ = check.tick() => {
                    let now = identity(&dir);
                    if now == folder {
                        continue;
                    }
                    folder = now;
                    if folder.is_some() && !rewatch(&watching, &dir) {
                        return;
                    }
                }
            }
            let reloading = registry.clone();
            match tokio::task::spawn_blocking(move || reloading.reload()).await {
                Ok(Err(e)) => tracing::error!("cannot read the scenario folder: {e}"),
                Err(e) => tracing::error!("reload task failed: {e}"),
                Ok(Ok(_)) => {}
            }
            // Gone: whatever folder appears there next (even on the same inode) is a new one.
            if registry.take_folder_gone() {
                folder = None;
            }
        }
    });
    Ok(Watch { _watcher: watcher })
}

/// Watch the folder `dir` is now (made again after it was deleted); false when the watching
/// has been stopped.
fn rewatch(watching: &Weak<Mutex<RecommendedWatcher>>, dir: &Path) -> bool {
    let Some(watcher) = watching.upgrade() else {
        return false;
    };
    let mut watcher = watcher.lock().unwrap_or_else(PoisonError::into_inner);
    let _ = watcher.unwatch(dir);
    match watcher.watch(dir, RecursiveMode::Recursive) {
        Ok(()) => tracing::info!(
            "the scenario folder {} is back: watching it again",
            dir.display()
        ),
        Err(e) => tracing::warn!("cannot watch {} again: {e}", dir.display()),
    }
    true
}
