//! The config file of a `run`, watched: each change of it (an edit, or an editor's
//! rename-into-place) is a message, so `[[bot]]` edits take effect while running; and
//! SIGHUP, which asks for the same reload (`systemctl reload`).

use notify::{RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

/// Watch the config file `path` (through its folder, so an editor's rename-into-place is
/// seen): a message on every change, while the returned watcher lives.
pub(super) fn watch(
    path: &Path,
) -> (
    Option<notify::RecommendedWatcher>,
    mpsc::UnboundedReceiver<()>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let name = path.file_name().map(|n| n.to_os_string());
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && event
                .paths
                .iter()
                .any(|p| p.file_name().map(|n| n.to_os_string()) == name)
        {
            let _ = tx.send(());
        }
    })
    .and_then(|mut w| w.watch(&folder, RecursiveMode::NonRecursive).map(|()| w));
    match watcher {
        Ok(watcher) => (Some(watcher), rx),
        Err(e) => {
            tracing::warn!(
                "config file {}: cannot watch it ({e}); [[bot]] edits need a restart",
                path.display()
            );
            (None, rx)
        }
    }
}

/// A message on every SIGHUP, from now on (none if the signal cannot be watched, which is
/// logged). Taking the signal also keeps it from ending the process.
pub(super) fn hangups() -> mpsc::UnboundedReceiver<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let (tx, rx) = mpsc::unbounded_channel();
    match signal(SignalKind::hangup()) {
        Ok(mut hangup) => {
            tokio::spawn(async move {
                while hangup.recv().await.is_some() {
                    if tx.send(()).is_err() {
                        break;
                    }
                }
            });
        }
        Err(e) => tracing::warn!("cannot watch for SIGHUP ({e}): reload by saving the config file"),
    }
    rx
}
