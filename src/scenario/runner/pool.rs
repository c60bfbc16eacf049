//! The host's side of the script workers: a pool of worker processes shared by every call of
//! the process. A call takes an idle worker (or starts one, up to the pool's size, or waits),
//! sends its request, serves the effects the script asks for through the caller's
//! [`Effects`] (journaled or not, as the caller decided), and returns the worker. A worker
//! that overruns the call's time limit by [`GRACE`] is killed; one that dies fails that call
//! alone; one that has served `max_calls` calls or grown past half its memory limit is
//! replaced.

use super::Evaluated;
use super::protocol::{
    Effect, FromWorker, Outcome, Refusal, Setup, ToWorker, read_frame, write_frame,
};
use crate::effects::Effects;
use crate::engine::{Limits, ScriptError};
use crate::scenario::{Handler, Scenario};
use crate::telegram::UpdateContext;
use serde_json::{Map, Value};
use std::io::{self, BufReader, Read};
use std::os::fd::AsRawFd;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long past its time limit a call may run before its worker is killed (Rhai's own
/// checks stop an ordinary script well before).
pub const GRACE: Duration = Duration::from_secs(1);
/// How long a new worker may take to start and confine itself.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Environment variables a worker keeps (everything else, tokens and hashes included, is
/// cleared).
const KEPT_ENV: &[&str] = &["TGSCRIPT_LOG", "NO_COLOR"];

/// How the pool starts and recycles its workers.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// The tgscript binary (started as `tgscript worker`).
    pub exe: PathBuf,
    /// The most workers at once.
    pub workers: usize,
    /// Each worker's address-space limit in MiB (0: none).
    pub memory_mb: u64,
    /// Calls a worker serves before it is replaced (0: no limit).
    pub max_calls: u32,
    /// The limits scripts run under.
    pub limits: Limits,
}

/// The script workers of a process.
pub struct WorkerPool {
    settings: PoolSettings,
    idle: Mutex<Slots>,
    freed: Condvar,
}

struct Slots {
    idle: Vec<Worker>,
    busy: usize,
}

/// Why a call did not get an answer from its worker.
#[derive(Debug)]
enum Lost {
    /// The worker could not be started.
    Start(String),
    /// The worker ran past the call's time limit and was killed.
    Overran(Duration),
    /// The worker died, or broke the protocol.
    Died(String),
}

/// One worker process.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<Deadline>,
    calls: u32,
}

/// A worker's stdout, read on the calling thread no later than `until`.
struct Deadline {
    stdout: ChildStdout,
    until: Instant,
}

impl Read for Deadline {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let left = self.until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            let mut fd = libc::pollfd {
                fd: self.stdout.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = libc::c_int::try_from(left.as_millis() + 1).unwrap_or(libc::c_int::MAX);
            // SAFETY: one pollfd, owned by this frame, for a descriptor we own.
            match unsafe { libc::poll(&mut fd, 1, ms) } {
                // Readable, or closed: read says which without blocking.
                n if n > 0 => return self.stdout.read(buf),
                0 => continue,
                _ => {
                    let error = io::Error::last_os_error();
                    if error.kind() != io::ErrorKind::Interrupted {
                        return Err(error);
                    }
                }
            }
        }
    }
}

/// Why no message came from a worker.
enum Silence {
    /// Nothing by the deadline.
    TimedOut,
    /// Its pipe closed or carried something that is not a message.
    Broken(String),
}

impl WorkerPool {
    /// A pool that starts workers as calls need them.
    pub fn new(settings: PoolSettings) -> Self {
        Self {
            settings,
            idle: Mutex::new(Slots {
                idle: Vec::new(),
                busy: 0,
            }),
            freed: Condvar::new(),
        }
    }

    /// Start one worker now and describe its confinement (for the start-up log), so a
    /// binary that cannot run as a worker is a start-up error.
    pub fn start(&self) -> Result<String, ScriptError> {
        let (worker, confinement) = Worker::spawn(&self.settings).map_err(|e| self.explain(e))?;
        self.release(worker, true);
        Ok(confinement)
    }

    /// Compile the scenario at `path` in a worker and run its `on_load` through `effects`.
    pub fn load(
        &self,
        root: &Path,
        path: &Path,
        effects: &dyn Effects,
    ) -> Result<Scenario, ScriptError> {
        let request = ToWorker::Load {
            root: root.to_path_buf(),
            path: path.to_path_buf(),
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
            } => Ok(Scenario::compiled_elsewhere(
                path,
                handlers,
                imports,
                fingerprint,
            )),
            other => Err(unexpected(&other)),
        }
    }

    /// Call `handler` of `scenario` in a worker, acting through `effects` on `update`.
    pub fn call(
        &self,
        root: &Path,
        scenario: &Scenario,
        handler: Handler,
        args: Vec<Value>,
        effects: &dyn Effects,
        update: Option<Arc<UpdateContext>>,
    ) -> Result<(), ScriptError> {
        let request = ToWorker::Call {
            root: root.to_path_buf(),
            path: scenario.path.clone(),
            fingerprint: scenario.fingerprint,
            namespace: scenario.namespace.to_string(),
            handler,
            args,
            update: update.map(|u| u.as_ref().clone()),
        };
        let shown = scenario.path.display().to_string();
        match self
            .exchange(request, effects)
            .map_err(|e| e.in_file(&shown))?
        {
            Outcome::Returned => Ok(()),
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
        let mut worker = self.acquire().map_err(|e| self.explain(e))?;
        let result = worker.run(&request, effects, self.settings.limits.timeout() + GRACE);
        let keep = match &result {
            Ok(_) => worker.healthy(&self.settings),
            Err(_) => false,
        };
        if !keep {
            worker.stop();
        }
        self.release(worker, keep);
        result
            .map_err(|e| self.explain(e))?
            .map_err(ScriptError::from)
    }

    /// An idle worker, a new one if the pool has room, else the next one freed.
    fn acquire(&self) -> Result<Worker, Lost> {
        let mut slots = self.lock();
        loop {
            if let Some(worker) = slots.idle.pop() {
                slots.busy += 1;
                return Ok(worker);
            }
            if slots.busy < self.settings.workers.max(1) {
                slots.busy += 1;
                drop(slots);
                return Worker::spawn(&self.settings)
                    .map(|(worker, _)| worker)
                    .inspect_err(|_| {
                        self.lock().busy -= 1;
                        self.freed.notify_one();
                    });
            }
            slots = self
                .freed
                .wait(slots)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Give `worker` back: kept idle when `keep`, else its place is free for a new one.
    fn release(&self, worker: Worker, keep: bool) {
        let mut slots = self.lock();
        slots.busy = slots.busy.saturating_sub(1);
        if keep {
            slots.idle.push(worker);
        }
        drop(slots);
        self.freed.notify_one();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A lost call as the script error its caller reports.
    fn explain(&self, lost: Lost) -> ScriptError {
        match lost {
            Lost::Start(e) => ScriptError::new(format!(
                "cannot start a script worker ({e}); set [scripts] isolation = \"inline\" to run scripts in-process"
            )),
            Lost::Overran(after) => {
                let mut error = ScriptError::new(format!(
                    "time limit exceeded: the call ran longer than {} ms and did not stop, so its worker process was killed after {} ms (raise [limits] timeout_ms if the script needs more)",
                    self.settings.limits.timeout_ms,
                    after.as_millis()
                ));
                error.limit = Some("timeout_ms");
                error
            }
            Lost::Died(how) => ScriptError::new(format!(
                "the script's worker process died ({how}); this call failed, the next one gets a new worker"
            )),
        }
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        for worker in &mut self.lock().idle {
            worker.stop();
        }
    }
}

impl Worker {
    /// Start a worker, send it its setup and wait until it is confined.
    fn spawn(settings: &PoolSettings) -> Result<(Worker, String), Lost> {
        let mut command = Command::new(&settings.exe);
        command
            .arg("worker")
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for key in KEPT_ENV {
            if let Some(value) = std::env::var_os(key) {
                command.env(key, value);
            }
        }
        let mut child = command
            .spawn()
            .map_err(|e| Lost::Start(format!("{}: {e}", settings.exe.display())))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            return Err(Lost::Start("no pipe to the worker".into()));
        };
        let mut worker = Worker {
            child,
            stdin,
            stdout: BufReader::new(Deadline {
                stdout,
                until: Instant::now(),
            }),
            calls: 0,
        };
        let setup = Setup {
            limits: settings.limits.clone(),
            memory_mb: settings.memory_mb,
            cpu_seconds: 0,
        };
        if let Err(e) = write_frame(&mut worker.stdin, &setup) {
            worker.stop();
            return Err(Lost::Start(e.to_string()));
        }
        match worker.receive(Instant::now() + START_TIMEOUT) {
            Ok(FromWorker::Ready { confinement }) => Ok((worker, confinement)),
            other => {
                let why = match other {
                    Err(Silence::Broken(e)) => e,
                    Err(Silence::TimedOut) => "it did not answer".to_string(),
                    Ok(_) => "it answered out of turn".to_string(),
                };
                let status = worker.stop();
                Err(Lost::Start(format!("{why}; {}", describe(status))))
            }
        }
    }

    /// Send `request` and serve the worker's effects until it is done. The outer error is
    /// a lost worker; the inner one the script's own.
    fn run(
        &mut self,
        request: &ToWorker,
        effects: &dyn Effects,
        budget: Duration,
    ) -> Result<Result<Outcome, super::protocol::WireError>, Lost> {
        self.calls += 1;
        let started = Instant::now();
        write_frame(&mut self.stdin, request).map_err(|e| self.lost(&e.to_string()))?;
        let mut deadline = Instant::now() + budget;
        loop {
            match self.receive(deadline) {
                Ok(FromWorker::Done(done)) => return Ok(done),
                Ok(FromWorker::Compiled) => deadline = Instant::now() + budget,
                Ok(FromWorker::Effect(effect)) => {
                    // Waiting on Telegram or TDLib is not the script's time.
                    let asked = Instant::now();
                    let answer = ToWorker::Answer(serve(effects, effect));
                    deadline += asked.elapsed();
                    write_frame(&mut self.stdin, &answer).map_err(|e| self.lost(&e.to_string()))?;
                }
                Ok(FromWorker::Ready { .. }) => return Err(self.lost("it started again")),
                Err(Silence::Broken(e)) => return Err(self.lost(&e)),
                Err(Silence::TimedOut) => {
                    self.stop();
                    return Err(Lost::Overran(started.elapsed()));
                }
            }
        }
    }

    /// The worker's next message, if it comes by `until`.
    fn receive(&mut self, until: Instant) -> Result<FromWorker, Silence> {
        self.stdout.get_mut().until = until;
        match read_frame::<FromWorker>(&mut self.stdout) {
            Ok(Some(message)) => Ok(message),
            Ok(None) => Err(Silence::Broken("it closed its pipe".into())),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Err(Silence::TimedOut),
            Err(e) => Err(Silence::Broken(format!("it sent a bad message: {e}"))),
        }
    }

    /// The worker is lost (`why`): stopped, and how it ended described.
    fn lost(&mut self, why: &str) -> Lost {
        let status = self.stop();
        Lost::Died(format!("{why}; {}", describe(status)))
    }

    /// Whether the worker may serve another call: under its call count and under half its
    /// memory limit.
    fn healthy(&self, settings: &PoolSettings) -> bool {
        if settings.max_calls > 0 && self.calls >= settings.max_calls {
            return false;
        }
        match (settings.memory_mb, resident_bytes(self.child.id())) {
            (0, _) | (_, None) => true,
            (limit, Some(resident)) => resident < limit * 1024 * 1024 / 2,
        }
    }

    /// Kill the worker (if it still runs) and reap it.
    fn stop(&mut self) -> Option<ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        // A worker that closed its pipe is exiting: give it a moment to say how.
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(5));
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
        }
        let _ = self.child.kill();
        self.child.wait().ok()
    }
}

/// Serve one effect through `effects`.
fn serve(effects: &dyn Effects, effect: Effect) -> Result<Value, Refusal> {
    match effect {
        Effect::Bot {
            command,
            method,
            params,
        } => effects
            .bot(&command, &method, &params)
            .map_err(Refusal::Command),
        Effect::AccountId {
            command,
            userbot_id,
        } => effects
            .account_id(&command, userbot_id)
            .map(Value::from)
            .map_err(Refusal::Command),
        Effect::Account { command, id, op } => {
            effects.account(&command, id, &op).map_err(Refusal::Command)
        }
        Effect::State(op) => effects
            .state(&op)
            .map_err(|e| Refusal::Store(e.to_string())),
        Effect::Now => Ok(Value::from(effects.now())),
    }
}

/// How a worker ended, in words that point at the likely limit.
fn describe(status: Option<ExitStatus>) -> String {
    let Some(status) = status else {
        return "its exit status is unknown".to_string();
    };
    match (status.code(), status.signal()) {
        (_, Some(libc::SIGABRT)) => {
            "it aborted: out of memory ([scripts] worker_memory_mb) or out of stack".to_string()
        }
        (_, Some(libc::SIGSEGV)) => "it crashed: out of stack or memory".to_string(),
        (_, Some(libc::SIGKILL)) => "it was killed".to_string(),
        (_, Some(libc::SIGXCPU)) => "it used up its CPU time".to_string(),
        (_, Some(libc::SIGSYS)) => "it made a forbidden system call".to_string(),
        (_, Some(signal)) => format!("signal {signal}"),
        (Some(code), None) => format!("exit code {code}"),
        (None, None) => "it ended".to_string(),
    }
}

/// The resident memory of process `pid`, from `/proc`.
fn resident_bytes(pid: u32) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf reads a constant of the system.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

/// A worker's answer of the wrong kind.
fn unexpected(outcome: &Outcome) -> ScriptError {
    ScriptError::new(format!("the worker answered out of turn: {outcome:?}"))
}
