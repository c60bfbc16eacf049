//! One worker process as the host sees it: started with its setup, sent one request at a
//! time, its effects served on the calling thread (no later than the call's wall deadline),
//! read no later than the call's deadlines, killed when it overruns, and described when it
//! dies.

use super::confine::{Cage, Confinement};
use super::protocol::{FromWorker, Outcome, Setup, ToWorker, WireError, read_frame, write_frame};
use crate::effects::{Effects, Refusal};
use crate::engine::Limits;
use crate::engine::folder::{Disk, FileError, Files, FolderFile, Outside};
use std::io::{self, BufReader, Read};
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

/// How the pool starts and recycles its workers.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// The tgscript binary (started as `tgscript worker`).
    pub exe: PathBuf,
    /// The most workers at once.
    pub workers: usize,
    /// The most workers one tenant holds at once while the pool serves several.
    pub tenant_workers: usize,
    /// Each worker's address-space limit in MiB (0: none).
    pub memory_mb: u64,
    /// Calls a worker serves before it is replaced (0: no limit).
    pub max_calls: u32,
    /// The user workers become (see [`super::confine::worker_user`]).
    pub user: Option<super::confine::WorkerUser>,
    /// The limits scripts run under.
    pub limits: Limits,
}

/// The CPU time a worker may use in its life (`RLIMIT_CPU`): a backstop; workers are replaced
/// once they used half of it.
const CPU_SECONDS: u64 = 600;
/// How often (in calls) a worker's memory and CPU time are read from `/proc`: two file reads
/// are not worth making after every call.
const MEASURE_EVERY: u32 = 8;
/// How long a new worker may take to start and confine itself.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest file a worker is handed: its base64 (a third larger) still fits in a frame.
const MAX_FILE: usize = super::protocol::MAX_FRAME / 2;
/// The most bytes of files one call's worker is handed in all.
const FILE_BUDGET: usize = super::protocol::MAX_FRAME;
/// The most files one call's worker may ask for.
const MAX_FILES: usize = 1024;
/// Environment variables a worker keeps (everything else, tokens and hashes included, is
/// cleared).
const KEPT_ENV: &[&str] = &["TGSCRIPT_LOG", "TGSCRIPT_LOG_FORMAT", "NO_COLOR"];

/// Why a call did not get an answer from its worker.
#[derive(Debug)]
pub(super) enum Lost {
    /// The worker could not be started.
    Start(String),
    /// The worker ran past the call's time limit and was killed.
    Overran(Duration),
    /// The call ran past its wall time (`wall_timeout_ms`, waits on effects included) and
    /// its worker was killed.
    OverranWall(Duration),
    /// The worker died, or broke the protocol.
    Died(String),
}

/// One worker process.
pub(super) struct Worker {
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

/// Start `command` from one thread that lives as long as the process: a worker's
/// parent-death signal (which it sets itself, see [`super::confine`]) fires when the *thread*
/// that started it ends, and the pool is called from threads that come and go.
fn start(command: Command) -> io::Result<Child> {
    type Order = (Command, mpsc::SyncSender<io::Result<Child>>);
    static STARTER: OnceLock<mpsc::Sender<Order>> = OnceLock::new();
    let starter = STARTER.get_or_init(|| {
        let (orders, incoming) = mpsc::channel::<Order>();
        let started = std::thread::Builder::new()
            .name("worker-starter".into())
            .spawn(move || {
                for (mut command, answer) in incoming {
                    let _ = answer.send(command.spawn());
                }
            });
        if let Err(e) = started {
            tracing::warn!("no thread to start workers from ({e}): each starts from its caller");
        }
        orders
    });
    let (answer, started) = mpsc::sync_channel(1);
    match starter.send((command, answer)) {
        Ok(()) => started
            .recv()
            .unwrap_or_else(|_| Err(io::Error::other("the worker starter thread is gone"))),
        // No starter thread: started here (its parent-death signal then follows this thread).
        Err(mpsc::SendError((mut command, _))) => command.spawn(),
    }
}

/// Why no message came from a worker.
enum Silence {
    /// Nothing by the deadline.
    TimedOut,
    /// Its pipe closed or carried something that is not a message.
    Broken(String),
}

impl Worker {
    /// Start a worker, send it its setup and wait until it is confined.
    pub(super) fn spawn(settings: &PoolSettings) -> Result<(Worker, Confinement), Lost> {
        let mut command = Command::new(&settings.exe);
        command
            .arg("worker")
            // Its own process group: Ctrl-C in a terminal, or a signal to the host's group,
            // reaches the host, which lets running calls finish, not the worker under them.
            .process_group(0)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for key in KEPT_ENV {
            if let Some(value) = std::env::var_os(key) {
                command.env(key, value);
            }
        }
        let mut child =
            start(command).map_err(|e| Lost::Start(format!("{}: {e}", settings.exe.display())))?;
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
            cage: Cage {
                memory_mb: settings.memory_mb,
                cpu_seconds: CPU_SECONDS,
                user: settings.user.clone(),
                host_pid: std::process::id(),
            },
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
                let status = worker.reap();
                Err(Lost::Start(format!("{why}; {}", describe(status))))
            }
        }
    }

    /// Send `request` and serve the worker's effects until it is done. The outer error is
    /// a lost worker; the inner one the script's own.
    ///
    /// `budget` is the script's own time, waits on effects excluded; `wall` its whole time,
    /// waits included (`[limits] wall_timeout_ms`). Effects are served no later than `wall`
    /// (a wait in progress gives up then), so the worker can stop the call itself and say
    /// why; one that has not within `grace` after either is killed.
    pub(super) fn run(
        &mut self,
        request: &ToWorker,
        effects: &dyn Effects,
        budget: Duration,
        wall: Duration,
        grace: Duration,
    ) -> Result<Result<Outcome, WireError>, Lost> {
        self.calls += 1;
        let started = Instant::now();
        let mut files = HandedOver::default();
        write_frame(&mut self.stdin, request).map_err(|e| self.lost(&e.to_string()))?;
        let mut deadline = Instant::now() + budget + grace;
        let mut wall_deadline = Instant::now() + wall;
        loop {
            match self.receive(deadline.min(wall_deadline + grace)) {
                Ok(FromWorker::Done(mut done)) => {
                    // What a scenario depends on is what the host handed over for it, not
                    // the worker's word: the host reads these files again on reloads.
                    if let Ok(Outcome::Loaded { imports, .. }) = &mut done {
                        imports.retain(|import| files.served.contains(import));
                    }
                    return Ok(done);
                }
                Ok(FromWorker::Compiled) => {
                    // Compiling is not the call: both clocks start now.
                    deadline = Instant::now() + budget + grace;
                    wall_deadline = Instant::now() + wall;
                }
                Ok(FromWorker::Activity(entries)) => {
                    // The worker knows no secrets: they are taken out here; and whose
                    // lines they are is the host's to say, not the worker's.
                    // A script's line is written to the log here, under its tenant's budget
                    // (the worker writes none itself); the rest goes to the activity.
                    let activity = crate::activity::log();
                    let caller = effects.caller();
                    let bot = caller.and_then(|c| c.bot_id()).map(str::to_string);
                    for mut entry in entries {
                        entry.text = crate::logging::redact(&entry.text);
                        if entry.kind == crate::activity::Kind::Print {
                            crate::engine::run::log_line(
                                caller.map(crate::effects::Caller::tenant_name),
                                bot.as_deref(),
                                entry.scenario.as_deref(),
                                &entry.text,
                            );
                            continue;
                        }
                        entry.bot = bot.clone();
                        activity.record(entry);
                    }
                }
                Ok(asked @ (FromWorker::Effect(_) | FromWorker::File { .. })) => {
                    // Waiting on Telegram or TDLib is not the script's time, but it is the
                    // call's wall time.
                    let started_waiting = Instant::now();
                    let answer = crate::engine::run::within_wall(wall_deadline, || {
                        ToWorker::Answer(match asked {
                            FromWorker::File { name, max } => {
                                let file = files.hand_over(request, name.as_deref(), max);
                                serde_json::to_value(file)
                                    .map_err(|e| Refusal::Store(e.to_string()))
                            }
                            FromWorker::Effect(effect) => effects.apply(&effect),
                            _ => Err(Refusal::Store("not a question".into())),
                        })
                    });
                    deadline += started_waiting.elapsed();
                    if Instant::now() >= wall_deadline + grace {
                        self.stop();
                        return Err(Lost::OverranWall(started.elapsed()));
                    }
                    write_frame(&mut self.stdin, &answer).map_err(|e| self.lost(&e.to_string()))?;
                }
                Ok(FromWorker::Ready { .. }) => return Err(self.lost("it started again")),
                Err(Silence::Broken(e)) => return Err(self.lost(&e)),
                Err(Silence::TimedOut) => {
                    self.stop();
                    return Err(match Instant::now() >= wall_deadline + grace {
                        true => Lost::OverranWall(started.elapsed()),
                        false => Lost::Overran(started.elapsed()),
                    });
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
        let status = self.reap();
        Lost::Died(format!("{why}; {}", describe(status)))
    }

    /// Whether the worker may serve another call: under its call count, and (looked at every
    /// [`MEASURE_EVERY`] calls) under half its memory limit and half its CPU time.
    pub(super) fn healthy(&self, settings: &PoolSettings) -> bool {
        if settings.max_calls > 0 && self.calls >= settings.max_calls {
            return false;
        }
        if !self.calls.is_multiple_of(MEASURE_EVERY) {
            return true;
        }
        let pid = self.child.id();
        if cpu_seconds(pid).is_some_and(|used| used * 2 > CPU_SECONDS) {
            return false;
        }
        match (settings.memory_mb, resident_bytes(pid)) {
            (0, _) | (_, None) => true,
            (limit, Some(resident)) => resident < limit * 1024 * 1024 / 2,
        }
    }

    /// Kill the worker (if it still runs) and reap it.
    pub(super) fn stop(&mut self) -> Option<ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        let _ = self.child.kill();
        self.child.wait().ok()
    }

    /// Reap a worker that closed its pipe: it is exiting, so give it a moment to say how
    /// before it is killed.
    fn reap(&mut self) -> Option<ExitStatus> {
        for _ in 0..20 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.stop()
    }
}

/// The files one call's worker was handed, and what they cost.
#[derive(Default)]
struct HandedOver {
    /// Their real paths (module files and assets of the folder).
    served: Vec<PathBuf>,
    /// Their bytes together.
    bytes: usize,
    /// How many were asked for.
    asked: usize,
}

impl HandedOver {
    /// The file `name` of `request`'s scenario folder (`None`: its scenario file) for its
    /// worker, at most `max` bytes and never more than [`MAX_FILE`], within the call's
    /// [`FILE_BUDGET`]: whatever the worker asks, it gets a file of the folder the host sent
    /// it to, or nothing.
    fn hand_over(
        &mut self,
        request: &ToWorker,
        name: Option<&Path>,
        max: usize,
    ) -> Result<FolderFile, FileError> {
        self.asked += 1;
        let left = FILE_BUDGET.saturating_sub(self.bytes);
        if self.asked > MAX_FILES || left == 0 {
            return Err(FileError::OverBudget {
                files: MAX_FILES,
                bytes: FILE_BUDGET,
            });
        }
        let max = match max {
            0 => MAX_FILE,
            max => max.min(MAX_FILE),
        }
        .min(left);
        let Some((root, scenario)) = request.folder() else {
            return Err(FileError::Outside(Outside::NoFolder));
        };
        let file = match (name, scenario) {
            (Some(relative), _) => {
                let file = Disk.inside(root, relative, max)?;
                self.served.push(file.path.clone());
                file
            }
            (None, Some(path)) => FolderFile {
                path: path.to_path_buf(),
                bytes: Disk.scenario(path, max)?,
            },
            (None, None) => return Err(FileError::Outside(Outside::NotFound)),
        };
        self.bytes += file.bytes.len();
        Ok(file)
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

/// The CPU time process `pid` has used, in seconds, from `/proc`.
fn cpu_seconds(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the parenthesised name: state is field 3, utime and stime fields 14 and 15.
    let mut fields = stat.rsplit_once(") ")?.1.split(' ');
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // SAFETY: sysconf reads a constant of the system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    Some((utime + stime) / u64::try_from(ticks).ok().filter(|&t| t > 0)?)
}

/// The resident memory of process `pid`, from `/proc`.
fn resident_bytes(pid: u32) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf reads a constant of the system.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_cpu_time_and_memory_are_read_from_proc() {
        let me = std::process::id();
        let spin = Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < Duration::from_millis(50) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        assert!(x > 0);
        assert!(cpu_seconds(me).is_some(), "utime and stime parse");
        assert!(
            resident_bytes(me).is_some_and(|b| b > 1024 * 1024),
            "some memory is resident"
        );
        assert_eq!(cpu_seconds(u32::MAX), None, "no such process");
    }
}
