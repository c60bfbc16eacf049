//! Watching the scenario folder: file events (debounced) trigger [`Registry::reload`]. Editors'
//! save patterns — write in place, write a temporary file and rename it, backup and swap files
//! — all end in a reload of the right file; swap and backup files themselves are ignored. A
//! folder deleted and made again (a deploy that replaces it) is watched again once it is back.

use super::registry::Registry;
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the folder itself is looked at (deleted, or replaced by a new one).
pub const FOLDER_CHECK: Duration = Duration::from_millis(500);

/// A folder being watched; dropping it stops the watching.
pub struct Watch {
    dir: PathBuf,
    /// Held while the folder is watched: its reload task stops once this is gone.
    alive: Arc<()>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(hub) = HUB.get() {
            hub.remove(&self.dir, &self.alive);
        }
    }
}

/// One file watcher for the whole process (inotify instances are few: 128 per user by
/// default, and a process may serve hundreds of bots), its events sent to the folders whose
/// paths they are under.
struct Hub {
    watcher: Mutex<RecommendedWatcher>,
    folders: Arc<Mutex<Vec<Folder>>>,
}

/// A watched folder and where its events go.
struct Folder {
    dir: PathBuf,
    alive: Weak<()>,
    events: mpsc::UnboundedSender<()>,
}

static HUB: OnceLock<Hub> = OnceLock::new();

impl Hub {
    /// The process's hub, made on first use.
    fn get() -> notify::Result<&'static Hub> {
        if let Some(hub) = HUB.get() {
            return Ok(hub);
        }
        let folders: Arc<Mutex<Vec<Folder>>> = Arc::default();
        let routes = folders.clone();
        let watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
                // Reading a file is no change (and a reload reads every file).
                Ok(event) if event.kind.is_access() => {}
                Ok(event) => {
                    let folders = routes.lock().unwrap_or_else(PoisonError::into_inner);
                    for folder in folders.iter() {
                        if event
                            .paths
                            .iter()
                            .any(|p| p.starts_with(&folder.dir) && is_relevant(p))
                        {
                            let _ = folder.events.send(());
                        }
                    }
                }
                Err(e) => tracing::warn!("file watcher: {e}"),
            })?;
        let _ = HUB.set(Hub {
            watcher: Mutex::new(watcher),
            folders,
        });
        HUB.get()
            .ok_or_else(|| notify::Error::generic("the file watcher could not be kept"))
    }

    fn watch(&self, dir: &Path) -> notify::Result<()> {
        let mut watcher = self.watcher.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = watcher.unwatch(dir);
        watcher.watch(dir, RecursiveMode::Recursive)
    }

    fn remove(&self, dir: &Path, alive: &Arc<()>) {
        let mine = Arc::downgrade(alive);
        let others = {
            let mut folders = self.folders.lock().unwrap_or_else(PoisonError::into_inner);
            folders.retain(|f| !f.alive.ptr_eq(&mine));
            let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
            folders.iter().any(|f| f.dir == absolute)
        };
        // Not while holding the folders: the watcher's thread takes them to route an event,
        // and unwatching waits for that thread.
        if !others {
            let _ = self
                .watcher
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .unwatch(dir);
        }
    }
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
    !name.starts_with('#') && crate::engine::folder::is_script(path)
}

/// Watch `dir` recursively and reload `registry` on relevant changes, and when the folder
/// is deleted or replaced, until the returned [`Watch`] is dropped.
pub fn watch(dir: &Path, registry: Arc<Registry>) -> notify::Result<Watch> {
    let hub = Hub::get()?;
    let (tx, mut events) = mpsc::unbounded_channel::<()>();
    let alive = Arc::new(());
    hub.folders
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Folder {
            // Events name absolute paths (the watcher makes a relative folder absolute).
            dir: std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()),
            alive: Arc::downgrade(&alive),
            events: tx,
        });
    if let Err(e) = hub.watch(dir) {
        hub.remove(dir, &alive);
        return Err(e);
    }
    let watching = Arc::downgrade(&alive);
    let (dir, dir_kept) = (dir.to_path_buf(), dir.to_path_buf());
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
    Ok(Watch {
        dir: dir_kept,
        alive,
    })
}

/// Watch the folder `dir` is now (made again after it was deleted); false when the watching
/// has been stopped.
fn rewatch(watching: &Weak<()>, dir: &Path) -> bool {
    let (Some(_alive), Some(hub)) = (watching.upgrade(), HUB.get()) else {
        return false;
    };
    match hub.watch(dir) {
        Ok(()) => tracing::info!(
            "the scenario folder {} is back: watching it again",
            dir.display()
        ),
        Err(e) => tracing::warn!("cannot watch {} again: {e}", dir.display()),
    }
    true
}
