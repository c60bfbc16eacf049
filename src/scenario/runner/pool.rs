//! The host's side of the script workers: a pool of worker processes (see [`super::child`])
//! shared by every call of the process. A worker belongs to one tenant at a time: a call
//! takes an idle worker of its caller's tenant, else starts one (up to the pool's size), else
//! replaces an idle worker of another tenant (nothing of one tenant — compiled scenarios, the
//! folder `asset` reads — stays in a worker that serves another), else waits; while the
//! pool serves several tenants, one tenant holds at most `tenant_workers` at once. A call
//! for an update that runs ahead (a query Telegram waits on: see
//! [`UpdateContext::ahead`]) goes before the calls waiting, and may start one worker more
//! than the pool's size, so it never waits for a long handler to end. It
//! sends its request, serves the effects the script asks for through the caller's
//! [`Effects`] (journaled or not, as the caller decided), and returns the worker. A worker
//! that overruns the call's time limit or its wall time (`wall_timeout_ms`, waits on effects
//! included) by [`GRACE`] is killed; one that dies fails that call
//! alone; one that has served `max_calls` calls or grown past half its memory limit is
//! replaced.

use super::Evaluated;
pub use super::child::PoolSettings;
use super::child::{Lost, Worker};
use super::protocol::{Outcome, ToWorker};
use crate::effects::Effects;
use crate::engine::ScriptError;
use crate::scenario::Scenario;
use crate::telegram::UpdateContext;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

/// How long past its time limit a call may run before its worker is killed (Rhai's own
/// checks stop an ordinary script well before).
pub const GRACE: Duration = Duration::from_secs(1);

/// The script workers of a process.
pub struct WorkerPool {
    settings: PoolSettings,
    idle: Mutex<Slots>,
    freed: Condvar,
}

struct Slots {
    idle: Vec<(Owner, Worker)>,
    busy: usize,
    /// Workers busy for each tenant.
    busy_for: HashMap<Owner, usize>,
    /// The tenants the pool has served: one tenant alone may use the whole pool.
    served: HashSet<Owner>,
    /// Calls waiting for a worker.
    waiting: usize,
    /// Calls that run ahead, waiting for a worker: the others let them go first.
    waiting_ahead: usize,
}

/// How many workers the pool may run beyond its size for calls that run ahead.
const SPARE_FOR_AHEAD: usize = 1;

/// How busy the pool is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Workers running a call.
    pub busy: usize,
    /// Calls waiting for a worker.
    pub waiting: usize,
    /// The most workers the pool runs at once.
    pub size: usize,
}

/// Whose calls a worker serves: a tenant, or (`None`) the operator's tools.
type Owner = Option<Arc<str>>;

impl Slots {
    /// Whether `owner` holds its share of the workers already.
    fn over_share(&self, owner: &Owner, share: usize) -> bool {
        owner.is_some()
            && self.served.len() > 1
            && self.busy_for.get(owner).copied().unwrap_or(0) >= share
    }

    fn take(&mut self, owner: &Owner) {
        self.busy += 1;
        *self.busy_for.entry(owner.clone()).or_default() += 1;
    }

    fn give_back(&mut self, owner: &Owner) {
        self.busy = self.busy.saturating_sub(1);
        if let Some(n) = self.busy_for.get_mut(owner) {
            *n = n.saturating_sub(1);
        }
    }
}

impl WorkerPool {
    /// A pool that starts workers as calls need them.
    pub fn new(settings: PoolSettings) -> Self {
        Self {
            settings,
            idle: Mutex::new(Slots {
                idle: Vec::new(),
                busy: 0,
                busy_for: HashMap::new(),
                served: HashSet::new(),
                waiting: 0,
                waiting_ahead: 0,
            }),
            freed: Condvar::new(),
        }
    }

    /// Start one worker now and describe its confinement (for the start-up log), so a
    /// binary that cannot run as a worker is a start-up error.
    pub fn start(&self) -> Result<super::confine::Confinement, ScriptError> {
        let (worker, confinement) = Worker::spawn(&self.settings).map_err(|e| self.explain(e))?;
        self.lock().take(&None);
        self.release(None, worker, true);
        Ok(confinement)
    }

    /// Compile the scenario at `path` in a worker, its namespace under `prefix`, and run its
    /// `on_load` through `effects`.
    pub fn load(
        &self,
        root: &Path,
        path: &Path,
        prefix: &str,
        effects: &dyn Effects,
    ) -> Result<Scenario, ScriptError> {
        let request = ToWorker::Load {
            root: root.to_path_buf(),
            path: path.to_path_buf(),
            prefix: prefix.to_string(),
        };
        let shown = path.display().to_string();
        match self
            .exchange(request, effects)
            .map_err(|e| e.in_file(&shown))?
        {
            Outcome::Loaded {
                handlers,
                imports,
                fingerprint,
                declared,
            } => Ok(
                Scenario::compiled_elsewhere(path, handlers, imports, fingerprint, declared)
                    .with_namespace_prefix(prefix),
            ),
            other => Err(unexpected(&other)),
        }
    }

    /// Call `function` of `scenario` in a worker, acting through `effects` on `update`.
    pub fn call(
        &self,
        root: &Path,
        scenario: &Scenario,
        function: &str,
        args: Vec<Value>,
        effects: &dyn Effects,
        update: Option<Arc<UpdateContext>>,
    ) -> Result<super::Called, ScriptError> {
        let request = ToWorker::Call {
            root: root.to_path_buf(),
            path: scenario.path.clone(),
            fingerprint: scenario.fingerprint,
            namespace: scenario.namespace.to_string(),
            function: function.to_string(),
            args,
            update: update.map(|u| u.as_ref().clone()),
        };
        let shown = scenario.path.display().to_string();
        match self
            .exchange(request, effects)
            .map_err(|e| e.in_file(&shown))?
        {
            Outcome::Returned { claimed } => Ok(super::Called { claimed }),
            other => Err(unexpected(&other)),
        }
    }

    /// Every problem a load would refuse the scenario at `path` for, found in a worker (its
    /// imports' top levels run there, under the call's limits), its builtins acting through
    /// `effects`.
    pub fn check(
        &self,
        root: &Path,
        path: &Path,
        effects: &dyn Effects,
    ) -> Result<Vec<ScriptError>, ScriptError> {
        let request = ToWorker::Check {
            root: root.to_path_buf(),
            path: path.to_path_buf(),
        };
        match self.exchange(request, effects)? {
            Outcome::Checked { problems } => {
                Ok(problems.into_iter().map(ScriptError::from).collect())
            }
            other => Err(unexpected(&other)),
        }
    }

    /// Evaluate `script` with `vars` in scope in a worker, acting through `effects`.
    pub fn eval(
        &self,
        root: &Path,
        script: &str,
        vars: &Map<String, Value>,
        effects: &dyn Effects,
    ) -> Result<Evaluated, ScriptError> {
        let request = ToWorker::Eval {
            root: root.to_path_buf(),
            script: script.to_string(),
            vars: vars.clone(),
        };
        match self.exchange(request, effects)? {
            Outcome::Evaluated { value, printed } => Ok(Evaluated { value, printed }),
            other => Err(unexpected(&other)),
        }
    }

    /// Run `request` in a worker, serving its effects through `effects`.
    fn exchange(&self, request: ToWorker, effects: &dyn Effects) -> Result<Outcome, ScriptError> {
        let owner: Owner = effects.caller().map(|c| Arc::from(c.tenant_name()));
        let ahead = matches!(&request, ToWorker::Call { update: Some(u), .. } if u.ahead);
        let mut worker = self.acquire(&owner, ahead).map_err(|e| self.explain(e))?;
        let limits = &self.settings.limits;
        let result = worker.run(
            &request,
            effects,
            limits.timeout(),
            limits.wall_timeout(),
            GRACE,
        );
        let keep = match &result {
            Ok(_) => worker.healthy(&self.settings),
            Err(_) => false,
        };
        if !keep {
            worker.stop();
        }
        self.release(owner, worker, keep);
        result
            .map_err(|e| self.explain(e))?
            .map_err(ScriptError::from)
    }

    /// A worker for `owner`'s call: an idle one of its own, a new one if the pool has room,
    /// one in place of another tenant's idle worker, else the next one freed — each only
    /// while `owner` is under its share. A call that runs `ahead` goes before the others
    /// waiting and has room for [`SPARE_FOR_AHEAD`] more.
    fn acquire(&self, owner: &Owner, ahead: bool) -> Result<Worker, Lost> {
        let mut slots = self.lock();
        if let Some(tenant) = owner
            && !slots.served.contains(owner)
        {
            slots.served.insert(Some(tenant.clone()));
        }
        let size = self.settings.workers.max(1) + if ahead { SPARE_FOR_AHEAD } else { 0 };
        loop {
            let gives_way = !ahead && slots.waiting_ahead > 0;
            if !gives_way && !slots.over_share(owner, self.settings.tenant_workers.max(1)) {
                if let Some(at) = slots.idle.iter().position(|(o, _)| o == owner) {
                    let (_, worker) = slots.idle.swap_remove(at);
                    slots.take(owner);
                    return Ok(worker);
                }
                let room = slots.busy + slots.idle.len() < size;
                // No room: another tenant's idle worker is stopped to make some.
                let replaced = match room {
                    true => None,
                    false => slots.idle.pop().map(|(_, worker)| worker),
                };
                if room || replaced.is_some() {
                    slots.take(owner);
                    drop(slots);
                    if let Some(mut old) = replaced {
                        old.stop();
                    }
                    return Worker::spawn(&self.settings)
                        .map(|(worker, _)| worker)
                        .inspect_err(|_| {
                            self.lock().give_back(owner);
                            self.freed.notify_all();
                        });
                }
            }
            slots.waiting += 1;
            slots.waiting_ahead += usize::from(ahead);
            slots = self
                .freed
                .wait(slots)
                .unwrap_or_else(PoisonError::into_inner);
            slots.waiting -= 1;
            slots.waiting_ahead -= usize::from(ahead);
        }
    }

    /// How busy the pool is now.
    pub fn usage(&self) -> Usage {
        let slots = self.lock();
        Usage {
            busy: slots.busy,
            waiting: slots.waiting,
            size: self.settings.workers.max(1),
        }
    }

    /// Give `owner`'s `worker` back: kept idle when `keep`, else its place is free for a new
    /// one.
    fn release(&self, owner: Owner, worker: Worker, keep: bool) {
        let mut slots = self.lock();
        slots.give_back(&owner);
        if keep {
            slots.idle.push((owner, worker));
        }
        drop(slots);
        // Waiters differ in what they may take (their tenant's share): each looks again.
        self.freed.notify_all();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A lost call as the script error its caller reports.
    fn explain(&self, lost: Lost) -> ScriptError {
        match lost {
            Lost::Start(e) => ScriptError::new(format!(
                "cannot start a script worker ({e}); set [scripts] isolation = \"inline\" to run scripts in-process"
            ))
            .transient(),
            Lost::Overran(after) => {
                let mut error = ScriptError::new(format!(
                    "time limit exceeded: the call ran longer than {} ms and did not stop, so its worker process was killed after {} ms (raise [limits] timeout_ms if the script needs more)",
                    self.settings.limits.timeout_ms,
                    after.as_millis()
                ));
                error.limit = Some("timeout_ms");
                error
            }
            Lost::OverranWall(after) => {
                let mut error = ScriptError::new(format!(
                    "{}, and did not stop, so its worker process was killed after {} ms (raise [limits] wall_timeout_ms if the script needs more)",
                    crate::engine::error::wall_exceeded(self.settings.limits.wall_timeout_ms),
                    after.as_millis()
                ));
                error.limit = Some("wall_timeout_ms");
                error
            }
            Lost::Died(how) => ScriptError::new(format!(
                "the script's worker process died ({how}); this call failed, the next one gets a new worker"
            ))
            .transient(),
        }
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        for (_, worker) in &mut self.lock().idle {
            worker.stop();
        }
    }
}

/// A worker's answer of the wrong kind.
fn unexpected(outcome: &Outcome) -> ScriptError {
    ScriptError::new(format!("the worker answered out of turn: {outcome:?}"))
}
