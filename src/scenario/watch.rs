//! Watching the scenario folder: file events (debounced) trigger [`Registry::reload`]. Editors'
//! save patterns — write in place, write a temporary file and rename it, backup and swap files
//! — all end in a reload of the right file; swap and backup files themselves are ignored.

use super::registry::Registry;
use notify::{RecursiveMode, Watcher};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

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

/// Watch `dir` recursively and reload `registry` on relevant changes until the returned
/// watcher is dropped.
pub fn watch(dir: &Path, registry: Arc<Registry>) -> notify::Result<notify::RecommendedWatcher> {
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
    tokio::spawn(async move {
        while events.recv().await.is_some() {
            // Debounce: wait until the folder has been quiet for a moment.
            while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, events.recv()).await {}
            let registry = registry.clone();
            match tokio::task::spawn_blocking(move || registry.reload()).await {
                Ok(Err(e)) => tracing::error!("cannot read the scenario folder: {e}"),
                Err(e) => tracing::error!("reload task failed: {e}"),
                Ok(Ok(_)) => {}
            }
        }
    });
    Ok(watcher)
}
