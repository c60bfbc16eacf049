//! The live set of scenarios. A reload builds a new set and swaps it in atomically: handlers
//! already running finish on the old version, the next update sees the new one, and a
//! scenario that fails to compile or whose `on_load` fails keeps its last good version.

use super::runner::Runner;
use super::{Handler, Scenario, fingerprint, scenario_files};
use crate::activity::RELOAD_TARGET;
use crate::builtins::ONE_OFF_NAMESPACE;
use crate::commands::chat;
use crate::effects::Effects;
use crate::engine::ScriptError;
use crate::store::Store;
use crate::telemetry;
use arc_swap::ArcSwap;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// What one reload did to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Loaded for the first time or recompiled: the handlers it has now.
    Loaded(PathBuf, Vec<Handler>),
    /// Failed: the last good version (if any) keeps running.
    Failed(PathBuf, String),
    /// The file is gone; its handlers are unloaded.
    Unloaded(PathBuf),
}

/// The scenarios of one folder, swapped as a whole on reload.
pub struct Registry {
    runner: Arc<Runner>,
    dir: PathBuf,
    current: ArcSwap<Vec<Scenario>>,
    /// Fingerprints of the last failed attempt per file, so an unrelated event does not
    /// report the same error again.
    failed: Mutex<HashMap<PathBuf, u64>>,
    /// When each file was last seen modified, so a save that changes nothing still answers.
    saved: Mutex<HashMap<PathBuf, std::time::SystemTime>>,
    /// What the scenarios act through (`on_load`, and the handlers of every update).
    effects: Arc<dyn Effects>,
    /// A chat failures are also sent to.
    report_to: Option<i64>,
    /// One reload at a time.
    reloading: Mutex<()>,
    /// Whether a reload found the folder itself gone since this was last taken.
    folder_gone: std::sync::atomic::AtomicBool,
    /// What its scenarios' state namespaces begin with (their bot's).
    prefix: String,
    /// The bot whose scenarios these are (metrics label).
    bot: String,
    /// The bot's username (`getMe`), once known: commands to other bots are not its.
    username: arc_swap::ArcSwapOption<String>,
    /// Where its scenarios' state and `expect_message` waits are kept (to warn of state a
    /// rename left behind, and to route a message to the function waiting for it).
    store: Option<Arc<Store>>,
    /// Namespaces already warned of.
    orphans_told: Mutex<HashSet<String>>,
}

impl Registry {
    /// A registry over `dir` whose scenarios run on `runner` and act through `effects`, empty
    /// until [`Registry::reload`]; failures are also sent to chat `report_to`.
    pub fn new(
        runner: Arc<Runner>,
        dir: &Path,
        effects: Arc<dyn Effects>,
        report_to: Option<i64>,
    ) -> Self {
        Self {
            runner,
            dir: dir.to_path_buf(),
            current: ArcSwap::from_pointee(Vec::new()),
            failed: Mutex::new(HashMap::new()),
            saved: Mutex::new(HashMap::new()),
            effects,
            report_to,
            reloading: Mutex::new(()),
            folder_gone: std::sync::atomic::AtomicBool::new(false),
            prefix: String::new(),
            bot: crate::store::DEFAULT_BOT.to_string(),
            username: arc_swap::ArcSwapOption::empty(),
            store: None,
            orphans_told: Mutex::default(),
        }
    }

    /// The same registry for the bot `bot`: its scenarios' state namespaces are its own.
    pub fn for_bot(mut self, bot: &str) -> Self {
        self.prefix = crate::store::namespace_prefix(bot);
        self.bot = bot.to_string();
        self
    }

    /// The same registry over the state in `store`: its messages go to the `expect_message`
    /// waits kept there, and a reload warns of state no scenario's namespace holds any more
    /// (a scenario renamed without `const STATE`).
    pub fn with_store(mut self, store: Arc<Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Where its scenarios' state (and jobs) are kept, when it was told.
    pub fn store(&self) -> Option<&Arc<Store>> {
        self.store.as_ref()
    }

    /// The bot whose scenarios these are.
    pub fn bot(&self) -> &str {
        &self.bot
    }

    /// The bot's username, once [`Registry::set_username`] said it.
    pub fn username(&self) -> Option<Arc<String>> {
        self.username.load_full()
    }

    /// The bot's username as `getMe` gives it: `/cmd@other_bot` is not delivered from now on.
    pub fn set_username(&self, username: &str) {
        self.username.store(Some(Arc::new(username.to_string())));
    }

    /// The scenarios now, in file-name order (a snapshot: later reloads do not change it).
    pub fn snapshot(&self) -> Arc<Vec<Scenario>> {
        self.current.load_full()
    }

    /// Whether a reload found the scenario folder itself gone since the last call: whatever
    /// folder is there next is a new one (to be watched anew).
    pub fn take_folder_gone(&self) -> bool {
        self.folder_gone
            .swap(false, std::sync::atomic::Ordering::SeqCst)
    }

    /// Where scenario calls run.
    pub fn runner(&self) -> &Arc<Runner> {
        &self.runner
    }

    /// What the scenarios act through.
    pub fn effects(&self) -> &Arc<dyn Effects> {
        &self.effects
    }

    /// Bring the set up to date with the folder: compile new and changed files (a module
    /// change counts for every scenario importing it), run their `on_load`, drop deleted
    /// ones, and swap the result in. Logs one line per file that changed.
    pub fn reload(&self) -> std::io::Result<Vec<Change>> {
        let _one_at_a_time = self
            .reloading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let files = match scenario_files(&self.dir) {
            Ok(files) => files,
            // The folder itself is gone: what it held is gone too (it loads again when the
            // folder comes back).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !self.dir.exists() => {
                self.folder_gone
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                if !self.snapshot().is_empty() {
                    tracing::warn!(
                        "the scenario folder {} is gone: every scenario is unloaded until it comes back",
                        self.dir.display()
                    );
                }
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        let old = self.snapshot();
        let mut next = Vec::with_capacity(files.len());
        let mut changes = Vec::new();
        // Logged once the new set is live, so "reloaded" means the next update sees it.
        let mut log: Vec<(bool, String)> = Vec::new();
        for file in &files {
            let previous = old.iter().find(|s| &s.path == file);
            let imports = previous.map(|s| s.imports.as_slice()).unwrap_or_default();
            let being_written = std::fs::metadata(file).map_or(true, |m| m.len() == 0);
            let print = fingerprint(file, imports).filter(|_| !being_written);
            let Some(print) = print else {
                // Missing or empty: an editor is replacing it right now (a save truncates
                // first). Keep what runs; the event that completes the save reloads it.
                next.extend(previous.cloned());
                continue;
            };
            let resaved = self.resaved(file);
            if let Some(previous) = previous.filter(|s| s.fingerprint == print) {
                if self.lock_failed().remove(file).is_some() {
                    log.push((
                        true,
                        format!(
                            "recovered {}: back to the version that runs, the failed edit is gone",
                            file.display()
                        ),
                    ));
                } else if resaved {
                    log.push((
                        true,
                        format!("unchanged {}: saved with the same content", file.display()),
                    ));
                }
                next.push(previous.clone());
                continue;
            }
            let already_failed = self.lock_failed().get(file) == Some(&print);
            if already_failed {
                if resaved {
                    log.push((
                        false,
                        format!(
                            "unchanged {}: saved with the same content, which still fails to load (see the error above)",
                            file.display()
                        ),
                    ));
                }
                next.extend(previous.cloned());
                continue;
            }
            let started = Instant::now();
            let loaded = self.load(file);
            metrics::counter!(
                telemetry::RELOADS,
                "bot" => self.bot.clone(),
                "outcome" => if loaded.is_ok() { "ok" } else { "failed" }
            )
            .increment(1);
            match loaded {
                Ok(scenario) => {
                    let recovered = self.lock_failed().remove(file).is_some();
                    log.push((
                        true,
                        format!(
                            "{} {}: ok, handlers [{}], {:.1} ms",
                            match (recovered, previous.is_some()) {
                                (true, _) => "recovered",
                                (false, true) => "reloaded",
                                (false, false) => "loaded",
                            },
                            file.display(),
                            scenario
                                .handlers
                                .iter()
                                .map(|h| h.name())
                                .collect::<Vec<_>>()
                                .join(", "),
                            started.elapsed().as_secs_f64() * 1000.0
                        ),
                    ));
                    changes.push(Change::Loaded(file.clone(), scenario.handlers.clone()));
                    next.push(scenario);
                }
                Err(err) => {
                    self.lock_failed().insert(file.clone(), print);
                    let kept = if previous.is_some() {
                        "the last good version keeps running"
                    } else {
                        "not loaded"
                    };
                    log.push((
                        false,
                        format!(
                            "reload of {} failed, {kept}: {err} ({:.1} ms)",
                            file.display(),
                            started.elapsed().as_secs_f64() * 1000.0
                        ),
                    ));
                    self.report(&format!(
                        "reload of {} failed, {kept}: {err}",
                        file.display()
                    ));
                    changes.push(Change::Failed(file.clone(), err.to_string()));
                    next.extend(previous.cloned());
                }
            }
        }
        for gone in old.iter().filter(|s| !files.contains(&s.path)) {
            log.push((
                true,
                format!("unloaded {}: the file was deleted", gone.path.display()),
            ));
            changes.push(Change::Unloaded(gone.path.clone()));
        }
        if !changes.is_empty() {
            self.warn_of_orphaned_state(&next);
            self.current.store(Arc::new(next));
        }
        for (ok, line) in log {
            if ok {
                tracing::info!(target: RELOAD_TARGET, "{line}");
            } else {
                tracing::error!(target: RELOAD_TARGET, "{line}");
            }
        }
        Ok(changes)
    }

    /// Warn once of each namespace with state that none of `scenarios` has: most likely a
    /// scenario was renamed and its state stayed under the old name.
    fn warn_of_orphaned_state(&self, scenarios: &[Scenario]) {
        let Some(store) = self.store.as_ref().filter(|_| !scenarios.is_empty()) else {
            return;
        };
        let namespaces = match store.namespaces(&self.prefix) {
            Ok(namespaces) => namespaces,
            Err(e) => return tracing::debug!("cannot look for orphaned state: {e}"),
        };
        let mut told = self
            .orphans_told
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for (namespace, keys) in namespaces {
            let own = &namespace[self.prefix.len()..];
            if own == ONE_OFF_NAMESPACE
                || scenarios.iter().any(|s| *s.namespace == *namespace)
                || !told.insert(namespace.clone())
            {
                continue;
            }
            let renamed = scenarios
                .iter()
                .filter(|s| s.declared.state.is_none())
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            tracing::warn!(
                "state of '{own}' ({keys} key(s)) belongs to no scenario now: if {own}.rhai was renamed (to one of {renamed}), add `const STATE = \"{own}\";` to it to keep its state and jobs"
            );
        }
    }

    /// Compile `file` and run its `on_load` (just before the version goes live); either
    /// failing is a failed load.
    fn load(&self, file: &Path) -> Result<Scenario, ScriptError> {
        self.runner.load(file, &self.prefix, &self.effects)
    }

    /// Whether `file` was modified since the last reload looked (never, for the first look).
    fn resaved(&self, file: &Path) -> bool {
        let Ok(modified) = std::fs::metadata(file).and_then(|m| m.modified()) else {
            return false;
        };
        let mut saved = self.saved.lock().unwrap_or_else(PoisonError::into_inner);
        saved
            .insert(file.to_path_buf(), modified)
            .is_some_and(|before| before != modified)
    }

    fn lock_failed(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, u64>> {
        self.failed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Send a failure to `[scripts] report_errors_to`, if set.
    fn report(&self, text: &str) {
        let Some(chat_id) = self.report_to else {
            return;
        };
        let request = json!({"chat_id": chat_id, "text": format!("tgscript: {text}")});
        if let Some(request) = request.as_object()
            && let Err(e) = chat::SEND_MESSAGE.run(&*self.effects, request, None)
        {
            tracing::warn!("could not report to chat {chat_id}: {e}");
        }
    }
}
