//! The worker process (`tgscript worker`, started by the host's pool, never by hand): it
//! confines itself, then runs one request at a time on its own engine, asking the host for
//! every effect. Its stdout is the pipe to the host (anything else that would print there goes
//! to stderr, which is the host's log).

use super::protocol::{
    EffectFrame, FromWorker, Outcome, Setup, ToWorker, WireError, read_frame, write_frame,
};
use super::{confine, eval, load};
use crate::builtins::{self, CallContext};
use crate::effects::{Effect, Effects, Refusal};
use crate::engine::{FileError, Files, FolderFile, Limits, ScriptEngine, ScriptError};
use crate::scenario::Scenario;
use serde_json::Value;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// How many compiled scenario versions a worker keeps before it forgets them all: enough for
/// a process serving a thousand bots, each call of which may come to any worker.
const MAX_CACHED: usize = 4096;

/// The two ends of the pipe to the host.
struct Pipe {
    input: BufReader<File>,
    output: BufWriter<File>,
}

/// The effects of a worker: each is a question to the host, answered before the script goes
/// on.
struct HostEffects {
    pipe: Mutex<Pipe>,
}

impl HostEffects {
    /// Send `question` to the host and wait for its answer.
    fn ask(&self, question: &impl serde::Serialize) -> Result<Value, Refusal> {
        let mut pipe = self.pipe.lock().unwrap_or_else(PoisonError::into_inner);
        let asked =
            pass_on_activity(&mut pipe).and_then(|()| write_frame(&mut pipe.output, question));
        match asked.and_then(|()| read_frame::<ToWorker>(&mut pipe.input)) {
            Ok(Some(ToWorker::Answer(answer))) => answer,
            // The host is gone or out of step: nothing sensible can follow.
            _ => std::process::exit(1),
        }
    }

    fn send(&self, message: &FromWorker) -> io::Result<()> {
        let mut pipe = self.pipe.lock().unwrap_or_else(PoisonError::into_inner);
        write_frame(&mut pipe.output, message)
    }

    /// Answer the request with `done`, after what the worker's log kept meanwhile.
    fn finish(&self, done: Result<Outcome, WireError>) -> io::Result<()> {
        let mut pipe = self.pipe.lock().unwrap_or_else(PoisonError::into_inner);
        pass_on_activity(&mut pipe)?;
        write_frame(&mut pipe.output, &FromWorker::Done(done))
    }

    fn receive(&self) -> io::Result<Option<ToWorker>> {
        let mut pipe = self.pipe.lock().unwrap_or_else(PoisonError::into_inner);
        read_frame(&mut pipe.input)
    }
}

impl Effects for HostEffects {
    fn apply(&self, effect: &Effect<'_>) -> Result<Value, Refusal> {
        self.ask(&EffectFrame::Effect(effect))
    }
}

/// A worker's files: each one asked of the host, which reads it from the folder of the
/// request it sent (the worker's cage lets it open none).
struct FromHost(Arc<HostEffects>);

impl FromHost {
    fn ask(&self, name: Option<&Path>, max: usize) -> Result<FolderFile, FileError> {
        let asked = FromWorker::File {
            name: name.map(Path::to_path_buf),
            max,
        };
        match self.0.ask(&asked) {
            Ok(answer) => serde_json::from_value(answer)
                .unwrap_or_else(|e| Err(FileError::Io(format!("the host sent no file: {e}")))),
            Err(refusal) => Err(FileError::Io(format!("{refusal:?}"))),
        }
    }
}

impl Files for FromHost {
    fn scenario(&self, _path: &Path, max: usize) -> Result<Vec<u8>, FileError> {
        self.ask(None, max).map(|file| file.bytes)
    }

    fn inside(&self, _root: &Path, relative: &Path, max: usize) -> Result<FolderFile, FileError> {
        self.ask(Some(relative), max)
    }
}

/// What a worker keeps between requests.
struct Worker {
    limits: Limits,
    effects: Arc<HostEffects>,
    /// One engine for every scenario folder (scenarios compile with their imports embedded,
    /// so only compiling needs the folder: it is pointed at the request's), made on first use.
    engine: Option<ScriptEngine>,
    /// Compiled scenarios by file and version.
    scenarios: HashMap<(PathBuf, u64), Scenario>,
}

impl Worker {
    fn engine(&mut self, root: &Path) -> &ScriptEngine {
        let (limits, effects) = (&self.limits, &self.effects);
        let engine = self.engine.get_or_insert_with(|| {
            let context = CallContext::direct(effects.clone());
            let engine = builtins::engine(limits.clone(), root, context);
            engine
                .folder()
                .set_files(Arc::new(FromHost(effects.clone())));
            engine
        });
        engine.set_root(root);
        engine
    }

    fn handle(&mut self, request: ToWorker) -> Result<Outcome, ScriptError> {
        let effects: Arc<dyn Effects> = self.effects.clone();
        let compiled = self.effects.clone();
        let mut compiled = move || {
            let _ = compiled.send(&FromWorker::Compiled);
        };
        match request {
            ToWorker::Load { root, path, prefix } => {
                let scenario = load(self.engine(&root), &path, &prefix, &effects, &mut compiled)?;
                let outcome = Outcome::Loaded {
                    handlers: scenario.handlers.clone(),
                    imports: scenario.imports.clone(),
                    fingerprint: scenario.fingerprint,
                    declared: scenario.declared.clone(),
                };
                self.remember(scenario);
                Ok(outcome)
            }
            ToWorker::Call {
                root,
                path,
                fingerprint,
                namespace,
                function,
                args,
                update,
            } => {
                let key = (path.clone(), fingerprint);
                if !self.scenarios.contains_key(&key) {
                    // The version asked for is not here and the file moved on: the next try
                    // runs on what the reload makes of it.
                    let scenario = Scenario::load(self.engine(&root), &path)
                        .map_err(ScriptError::transient)?;
                    if scenario.fingerprint != fingerprint {
                        return Err(ScriptError::new(
                            "the file changed since it was loaded: this try fails, and the reload it causes takes over",
                        )
                        .in_file(path.display().to_string())
                        .transient());
                    }
                    compiled();
                    self.remember(scenario);
                }
                let Some(scenario) = self.scenarios.get(&key) else {
                    return Err(ScriptError::new("the scenario was not kept").transient());
                };
                let scenario = Scenario {
                    namespace: namespace.into(),
                    ..scenario.clone()
                };
                let engine = self.engine(&root);
                let called = super::call(
                    engine,
                    &scenario,
                    &function,
                    &args,
                    effects,
                    update.map(Arc::new),
                )?;
                Ok(Outcome::Returned {
                    claimed: called.claimed,
                })
            }
            ToWorker::Eval { root, script, vars } => {
                let evaluated = eval(self.engine(&root), &script, &vars, &mut compiled)?;
                Ok(Outcome::Evaluated {
                    value: evaluated.value,
                    printed: evaluated.printed,
                })
            }
            ToWorker::Check { root, path } => {
                let problems = Scenario::problems(self.engine(&root), &path);
                Ok(Outcome::Checked {
                    problems: problems.into_iter().map(WireError::from).collect(),
                })
            }
            ToWorker::Answer(_) => Err(ScriptError::new("an answer came with no question")),
        }
    }

    fn remember(&mut self, scenario: Scenario) {
        if self.scenarios.len() >= MAX_CACHED {
            self.scenarios.clear();
        }
        self.scenarios
            .insert((scenario.path.clone(), scenario.fingerprint), scenario);
    }
}

/// Run as a worker until the host closes the pipe; the process exit code.
pub fn main() -> u8 {
    ignore_stop_signals();
    let mut pipe = match take_pipe() {
        Ok(pipe) => pipe,
        Err(e) => {
            tracing::error!("worker: cannot set up its pipe: {e}");
            return 1;
        }
    };
    let setup: Setup = match read_frame(&mut pipe.input) {
        Ok(Some(setup)) => setup,
        _ => {
            tracing::error!("worker: the host sent no setup");
            return 1;
        }
    };
    // Confined before any script is read, compiled or run.
    let confinement = confine::confine(&setup.cage);
    let effects = Arc::new(HostEffects {
        pipe: Mutex::new(pipe),
    });
    // What the worker logged while starting is on the host's stderr already: the host's
    // activity gets what scripts make it log, from here on (before each effect and answer).
    crate::activity::log().take();
    if effects.send(&FromWorker::Ready { confinement }).is_err() {
        return 1;
    }
    let mut worker = Worker {
        limits: setup.limits,
        effects: effects.clone(),
        engine: None,
        scenarios: HashMap::new(),
    };
    loop {
        let request = match effects.receive() {
            Ok(Some(request)) => request,
            Ok(None) => return 0,
            Err(e) => {
                tracing::error!("worker: {e}");
                return 1;
            }
        };
        let done = worker.handle(request).map_err(WireError::from);
        if effects.finish(done).is_err() {
            return 1;
        }
    }
}

/// Stopping is the host's to decide: SIGTERM sent to every process of a systemd unit
/// (`KillMode=control-group`), or a terminal's SIGINT, SIGQUIT or SIGHUP, must not cut a call
/// short. The host ends a worker by closing its pipe, or kills it.
fn ignore_stop_signals() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    for stop in [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGHUP,
    ] {
        // SAFETY: ignoring a signal installs no handler; nothing runs on its delivery.
        if let Err(e) = unsafe { signal(stop, SigHandler::SigIgn) } {
            tracing::warn!("worker: cannot ignore {stop}: {e}");
        }
    }
}

/// Send the host what this worker's log kept since the last time (scripts' prints, …), if
/// anything.
fn pass_on_activity(pipe: &mut Pipe) -> io::Result<()> {
    let entries = crate::activity::log().take();
    match entries.is_empty() {
        true => Ok(()),
        false => write_frame(&mut pipe.output, &FromWorker::Activity(entries)),
    }
}

/// The protocol pipe: stdin, and a copy of stdout; stdout itself then points at stderr, so
/// nothing printed by accident can corrupt a frame.
fn take_pipe() -> io::Result<Pipe> {
    // SAFETY: dup/dup2 on the standard descriptors, checked; the new descriptor is owned
    // by the returned file and by nothing else.
    let output = unsafe {
        let fd = libc::dup(1);
        if fd < 0 || libc::dup2(2, 1) < 0 {
            return Err(io::Error::last_os_error());
        }
        File::from(OwnedFd::from_raw_fd(fd))
    };
    // SAFETY: as above, for stdin.
    let input = unsafe {
        let fd = libc::dup(0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        File::from(OwnedFd::from_raw_fd(fd))
    };
    close_inherited(&[input.as_raw_fd(), output.as_raw_fd()])?;
    Ok(Pipe {
        input: BufReader::new(input),
        output: BufWriter::new(output),
    })
}

/// Close every descriptor the worker inherited but the standard three and `keep` (the
/// pipes): what the host's own parent left open without close-on-exec (systemd's sockets,
/// say) is none of a worker's business, and its cage would not stop reads and writes on it.
fn close_inherited(keep: &[RawFd]) -> io::Result<()> {
    let mut keep: Vec<RawFd> = [0, 1, 2].iter().chain(keep).copied().collect();
    keep.sort_unstable();
    keep.dedup();
    let mut from: RawFd = 0;
    for &kept in &keep {
        if kept > from {
            close_range(from, kept - 1)?;
        }
        from = kept + 1;
    }
    close_range(from, RawFd::MAX)
}

/// `close_range(2)` from `first` to `last`, both included.
fn close_range(first: RawFd, last: RawFd) -> io::Result<()> {
    let (first, last) = (first as libc::c_uint, last as libc::c_uint);
    // SAFETY: closes descriptors of this process only; none of them is owned by a Rust value
    // (the kept ones are excluded).
    match unsafe { libc::syscall(libc::SYS_close_range, first, last, 0) } {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}
