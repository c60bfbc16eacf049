//! The cage a worker puts itself in before it reads, compiles or runs any script, layer by
//! layer; what the kernel cannot do is reported, not fatal (the host logs the description, and
//! `tgscript cage` prints it):
//!
//! 1. **namespaces**: a network, IPC, UTS and mount namespace of its own (in a new user
//!    namespace when not started as root), whose root is an empty, read-only tmpfs;
//! 2. **user**: started as root, it becomes `[scripts] worker_user` (default `nobody`), with
//!    no supplementary groups and so no capabilities;
//! 3. **limits**: address space, CPU time, no core files;
//! 4. **parent death**: killed when the host dies;
//! 5. **Landlock**: no file may be opened, read or written, no TCP, no signals or abstract
//!    sockets outside the worker — it reads its scripts and assets from the host, as data;
//! 6. **seccomp**: an allow-list (what a worker needs — its pipes, memory, futexes, clocks,
//!    sleeping, exiting); every other call fails with `EPERM`: no socket of any family, no
//!    io_uring, no file opened, no chmod or xattr, no namespace, no key, no new process.

use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, RestrictionStatus, Ruleset,
    RulesetAttr, RulesetStatus, Scope,
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The newest Landlock ABI this build asks for; older kernels get what they support.
const LANDLOCK_ABI: ABI = ABI::V6;
/// The user workers run as when the host starts as root and `[scripts] worker_user` is unset.
pub const DEFAULT_WORKER_USER: &str = "nobody";

/// What the host asks of a worker's cage (the first frame it sends carries it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cage {
    /// Address-space limit in MiB (0: none).
    pub memory_mb: u64,
    /// CPU-time limit of the whole worker in seconds (0: none).
    pub cpu_seconds: u64,
    /// The user it becomes (`[scripts] worker_user`), when the host starts as root.
    pub user: Option<WorkerUser>,
    /// The host's process id: a worker whose parent is another is orphaned, and exits.
    pub host_pid: u32,
}

/// The unprivileged user a worker becomes (resolved by the host: a worker reads no files,
/// `/etc/passwd` included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerUser {
    /// Its name, for the description.
    pub name: String,
    /// Its user id.
    pub uid: u32,
    /// Its group id.
    pub gid: u32,
}

/// Why `[scripts] worker_user` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// No such user.
    #[error("[scripts] worker_user = {0:?}: no such user; give a user name or uid[:gid]")]
    Unknown(String),
    /// The host cannot switch users.
    #[error(
        "[scripts] worker_user = {0:?} needs tgscript to start as root (it runs as uid {1}); remove the key, or start it as root"
    )]
    NotRoot(String, u32),
    /// A uid of 0.
    #[error("[scripts] worker_user = {0:?} is root: workers never run as root")]
    Root(String),
}

/// The user workers become: `configured` (a name, `uid` or `uid:gid`), or
/// [`DEFAULT_WORKER_USER`] when the host runs as root; none when it does not (workers stay
/// the host's user).
pub fn worker_user(configured: Option<&str>) -> Result<Option<WorkerUser>, UserError> {
    let me = nix::unistd::geteuid();
    let Some(wanted) = configured.or(me.is_root().then_some(DEFAULT_WORKER_USER)) else {
        return Ok(None);
    };
    let user = lookup(wanted).ok_or_else(|| UserError::Unknown(wanted.into()))?;
    if user.uid == 0 {
        return Err(UserError::Root(wanted.into()));
    }
    match me.is_root() {
        true => Ok(Some(user)),
        false if user.uid == me.as_raw() => Ok(None),
        false => Err(UserError::NotRoot(wanted.into(), me.as_raw())),
    }
}

fn lookup(wanted: &str) -> Option<WorkerUser> {
    use nix::unistd::{Uid, User};
    let numeric = |text: &str| text.parse::<u32>().ok();
    if let Some((uid, gid)) = wanted.split_once(':') {
        return Some(WorkerUser {
            name: wanted.into(),
            uid: numeric(uid)?,
            gid: numeric(gid)?,
        });
    }
    let user = match numeric(wanted) {
        Some(uid) => User::from_uid(Uid::from_raw(uid)).ok().flatten(),
        None => User::from_name(wanted).ok().flatten(),
    };
    match (user, numeric(wanted)) {
        (Some(user), _) => Some(WorkerUser {
            name: user.name,
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
        }),
        // A uid with no entry in /etc/passwd: its own group.
        (None, Some(uid)) => Some(WorkerUser {
            name: wanted.into(),
            uid,
            gid: uid,
        }),
        // `nobody` missing from a minimal image: the kernel's overflow ids.
        (None, None) if wanted == DEFAULT_WORKER_USER => Some(WorkerUser {
            name: wanted.into(),
            uid: 65534,
            gid: 65534,
        }),
        (None, None) => None,
    }
}

/// One layer of the cage and how it stands on this kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    /// Its name (`seccomp`, `landlock`, …).
    pub name: String,
    /// Whether it is in force.
    pub enforced: bool,
    /// What it holds, or why not.
    pub detail: String,
}

/// Every layer of a worker's cage, in the order they were put on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confinement {
    /// The layers.
    pub layers: Vec<Layer>,
}

impl Confinement {
    fn add(&mut self, name: &str, outcome: Result<String, String>) {
        let (enforced, detail) = match outcome {
            Ok(detail) => (true, detail),
            Err(why) => (false, why),
        };
        self.layers.push(Layer {
            name: name.into(),
            enforced,
            detail,
        });
    }

    /// One line: `seccomp: allow-list, landlock: no files, …`; a layer not in force says
    /// `NOT ENFORCED` and why.
    pub fn line(&self) -> String {
        self.layers
            .iter()
            .map(|layer| match layer.enforced {
                true => format!("{}: {}", layer.name, layer.detail),
                false => format!("{}: NOT ENFORCED ({})", layer.name, layer.detail),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Confine this process as `setup` says.
pub fn confine(setup: &Cage) -> Confinement {
    let mut cage = Confinement::default();
    // Who started it, read before a new user namespace makes it someone unmapped.
    let started_as = nix::unistd::geteuid();
    cage.add("namespaces", namespaces());
    cage.add("user", become_user(setup.user.as_ref(), started_as));
    cage.add("limits", limits(setup));
    cage.add("parent death", parent_death(setup.host_pid));
    cage.add("landlock", landlock());
    cage.add(
        "seccomp",
        seccomp().map(|()| "allow-list, the rest EPERM".into()),
    );
    cage
}

/// New network, IPC, UTS and mount namespaces — in a new user namespace unless root — and an
/// empty read-only root.
fn namespaces() -> Result<String, String> {
    use nix::sched::{CloneFlags, unshare};
    let separate = CloneFlags::CLONE_NEWNET
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWNS;
    let flags = match nix::unistd::geteuid().is_root() {
        true => separate,
        false => separate | CloneFlags::CLONE_NEWUSER,
    };
    unshare(flags).map_err(|e| format!("unshare: {e}; this kernel or container forbids them"))?;
    match empty_root() {
        Ok(()) => Ok("net, ipc, uts, mount (an empty root)".into()),
        Err(e) => Ok(format!("net, ipc, uts (the root is not emptied: {e})")),
    }
}

/// Make `/` an empty read-only tmpfs in this (new) mount namespace: the old root is detached.
fn empty_root() -> Result<(), String> {
    use nix::mount::{MntFlags, MsFlags, mount, umount2};
    let step = |what: &str, e: nix::Error| format!("{what}: {e}");
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| step("making / private", e))?;
    // Any folder every system has will do as the mount point: only this namespace sees it.
    let point = "/proc";
    let fixed = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount(
        Some("tmpfs"),
        point,
        Some("tmpfs"),
        fixed,
        Some("size=4k,mode=0555"),
    )
    .map_err(|e| step("mounting an empty tmpfs", e))?;
    nix::unistd::chdir(point).map_err(|e| step("chdir", e))?;
    nix::unistd::pivot_root(".", ".").map_err(|e| step("pivot_root", e))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(|e| step("detaching the old root", e))?;
    nix::unistd::chdir("/").map_err(|e| step("chdir", e))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY | fixed,
        None::<&str>,
    )
    .map_err(|e| step("making the root read-only", e))
}

/// Become `user` (no supplementary groups; every capability goes with uid 0), when given.
fn become_user(user: Option<&WorkerUser>, started_as: nix::unistd::Uid) -> Result<String, String> {
    use nix::unistd::{Gid, Uid, setgroups, setresgid, setresuid};
    let Some(user) = user else {
        return match started_as.is_root() {
            true => Err("runs as root: no worker_user was given".into()),
            false => Ok(format!("uid {started_as} (the host's, not root)")),
        };
    };
    let (uid, gid) = (Uid::from_raw(user.uid), Gid::from_raw(user.gid));
    setgroups(&[]).map_err(|e| format!("setgroups: {e}"))?;
    setresgid(gid, gid, gid).map_err(|e| format!("setresgid {gid}: {e}"))?;
    setresuid(uid, uid, uid).map_err(|e| format!("setresuid {uid}: {e}"))?;
    Ok(format!(
        "{} (uid {uid}, gid {gid}), no capabilities",
        user.name
    ))
}

/// Address space and CPU time as `setup` says, no core files. (Not `RLIMIT_FSIZE`: stderr,
/// the host's log, may be a file.)
fn limits(setup: &Cage) -> Result<String, String> {
    use nix::sys::resource::{Resource, setrlimit};
    let mut held = Vec::new();
    if setup.memory_mb > 0 {
        let bytes = setup.memory_mb.saturating_mul(1024 * 1024);
        setrlimit(Resource::RLIMIT_AS, bytes, bytes).map_err(|e| format!("address space: {e}"))?;
        held.push(format!("address space {} MiB", setup.memory_mb));
    }
    if setup.cpu_seconds > 0 {
        // SIGXCPU at the soft limit, SIGKILL at the hard one.
        let hard = setup.cpu_seconds.saturating_add(5);
        setrlimit(Resource::RLIMIT_CPU, setup.cpu_seconds, hard)
            .map_err(|e| format!("cpu: {e}"))?;
        held.push(format!("cpu {} s", setup.cpu_seconds));
    }
    setrlimit(Resource::RLIMIT_CORE, 0, 0).map_err(|e| format!("core files: {e}"))?;
    held.push("no core files".into());
    Ok(held.join("; "))
}

/// SIGKILL when the host's thread that started this worker ends (the host starts workers from
/// one thread that lives as long as it does); gone at once if the host is already gone.
fn parent_death(host: u32) -> Result<String, String> {
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
        .map_err(|e| format!("prctl: {e}"))?;
    if nix::unistd::getppid().as_raw() as u32 != host {
        // The host died before the signal was set: nobody is left to serve.
        std::process::exit(1);
    }
    Ok("killed with the host".into())
}

/// No file opened (read, write or execute), no TCP, no signal or abstract socket outside.
fn landlock() -> Result<String, String> {
    let restricted = || -> Result<RestrictionStatus, landlock::RulesetError> {
        Ruleset::default()
            .set_compatibility(CompatLevel::BestEffort)
            .handle_access(AccessFs::from_all(LANDLOCK_ABI))?
            .handle_access(AccessNet::from_all(LANDLOCK_ABI))?
            .scope(Scope::from_all(LANDLOCK_ABI))?
            .create()?
            .restrict_self()
    };
    let status = restricted().map_err(|e| e.to_string())?;
    match status.ruleset {
        RulesetStatus::FullyEnforced => Ok("no file, no TCP, no signal out".into()),
        RulesetStatus::PartiallyEnforced => {
            Ok("no file (an older kernel: TCP or scoping not covered)".into())
        }
        RulesetStatus::NotEnforced => Err("not available in this kernel".into()),
    }
}

/// The allow-list; everything else fails with `EPERM`.
fn seccomp() -> Result<(), String> {
    let arch = std::env::consts::ARCH
        .try_into()
        .map_err(|e: seccompiler::BackendError| e.to_string())?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for call in ALLOWED {
        rules.insert(*call, Vec::new());
    }
    let condition = |arg: u8, op: SeccompCmpOp, value: u64| -> Result<SeccompRule, String> {
        let condition = SeccompCondition::new(arg, SeccompCmpArgLen::Qword, op, value)
            .map_err(|e| e.to_string())?;
        SeccompRule::new(vec![condition]).map_err(|e| e.to_string())
    };
    // Reading its own limits, never setting them (`prlimit64(0, resource, NULL, old)`).
    rules.insert(
        libc::SYS_prlimit64,
        vec![condition(2, SeccompCmpOp::Eq, 0)?],
    );
    // abort() signals its own process only.
    rules.insert(
        libc::SYS_tgkill,
        vec![condition(0, SeccompCmpOp::Eq, std::process::id() as u64)?],
    );
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Errno(libc::EPERM as u32),
        SeccompAction::Allow,
        arch,
    )
    .map_err(|e| e.to_string())?;
    let program: BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| e.to_string())?;
    seccompiler::apply_filter(&program).map_err(|e| e.to_string())
}

/// What a worker may call once confined: reading and writing its pipes (and stderr), memory,
/// futexes, clocks and sleeping, its own signal handling, randomness, and exiting. Nothing
/// opens a file or a socket, starts a process or thread, or changes anything outside it.
const ALLOWED: &[i64] = &[
    libc::SYS_read,
    libc::SYS_write,
    libc::SYS_readv,
    libc::SYS_writev,
    libc::SYS_close,
    libc::SYS_brk,
    libc::SYS_mmap,
    libc::SYS_munmap,
    libc::SYS_mremap,
    libc::SYS_mprotect,
    libc::SYS_madvise,
    libc::SYS_futex,
    libc::SYS_clock_gettime,
    libc::SYS_clock_getres,
    libc::SYS_gettimeofday,
    libc::SYS_clock_nanosleep,
    libc::SYS_nanosleep,
    libc::SYS_sched_yield,
    libc::SYS_getrandom,
    libc::SYS_getpid,
    libc::SYS_gettid,
    libc::SYS_rt_sigaction,
    libc::SYS_rt_sigprocmask,
    libc::SYS_rt_sigreturn,
    libc::SYS_sigaltstack,
    libc::SYS_restart_syscall,
    libc::SYS_exit,
    libc::SYS_exit_group,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_user_is_resolved_by_name_uid_or_pair_and_never_root() {
        assert_eq!(
            lookup("12345:23456"),
            Some(WorkerUser {
                name: "12345:23456".into(),
                uid: 12345,
                gid: 23456
            })
        );
        assert_eq!(
            lookup("54321").map(|u| (u.uid, u.gid)),
            Some((54321, 54321))
        );
        assert!(lookup("no-such-user-here").is_none());
        assert!(lookup("nobody").is_some_and(|u| u.uid != 0));
        if nix::unistd::geteuid().is_root() {
            assert!(matches!(worker_user(Some("root")), Err(UserError::Root(_))));
            assert!(matches!(worker_user(Some("0:0")), Err(UserError::Root(_))));
            let default = worker_user(None).expect("nobody");
            assert!(default.is_some_and(|u| u.uid != 0));
        } else {
            assert_eq!(worker_user(None).ok(), Some(None));
            assert!(matches!(
                worker_user(Some("54321")),
                Err(UserError::NotRoot(..))
            ));
        }
        assert!(matches!(
            worker_user(Some("no-such-user-here")),
            Err(UserError::Unknown(_))
        ));
    }
}

/// Native code inside the cage trying to leave it: the test below starts this test binary as
/// a process of its own (confinement cannot be undone), puts on exactly the cage a worker
/// puts on, then makes the system calls an attacker with native code would.
#[cfg(test)]
mod probe {
    use super::*;
    use std::ffi::CString;

    /// Files the probe must not read (0644, so only the cage stops it), `:`-separated.
    const FILES_ENV: &str = "TGSCRIPT_PROBE_FILES";

    /// The result of one raw system call: `denied (errno)` or `ALLOWED`.
    fn outcome(result: libc::c_long) -> String {
        match result {
            -1 => format!("denied ({})", std::io::Error::last_os_error()),
            _ => "ALLOWED".to_string(),
        }
    }

    fn c(text: &str) -> CString {
        CString::new(text).expect("no NUL")
    }

    /// Every way out tried, by name.
    fn attempts(files: &[String]) -> Vec<(String, libc::c_long)> {
        let mut tried: Vec<(String, libc::c_long)> = Vec::new();
        let mut attempt = |name: &str, result: libc::c_long| tried.push((name.into(), result));
        // SAFETY (all below): raw system calls with valid pointers to locals or null; each
        // either fails or acts on this throwaway process.
        unsafe {
            use libc::*;
            for (family, kind, name) in [
                (AF_INET, SOCK_STREAM, "socket inet tcp"),
                (AF_INET, SOCK_DGRAM, "socket inet udp"),
                (AF_INET6, SOCK_STREAM, "socket inet6"),
                (AF_UNIX, SOCK_STREAM, "socket unix"),
                (AF_NETLINK, SOCK_RAW, "socket netlink"),
                (AF_PACKET, SOCK_RAW, "socket packet"),
                (AF_VSOCK, SOCK_STREAM, "socket vsock"),
            ] {
                attempt(name, syscall(SYS_socket, family, kind, 0));
            }
            let mut pair = [0 as c_int; 2];
            attempt(
                "socketpair unix",
                syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, pair.as_mut_ptr()),
            );
            let mut params = [0u8; 120];
            attempt(
                "io_uring_setup",
                syscall(SYS_io_uring_setup, 8, params.as_mut_ptr()),
            );
            let mut paths: Vec<String> = files.to_vec();
            paths.extend(["/etc/passwd", "/proc/self/status", "/"].map(String::from));
            if let Ok(exe) = std::env::current_exe() {
                paths.push(exe.display().to_string());
            }
            for path in &paths {
                let p = c(path);
                attempt(
                    &format!("openat {path}"),
                    syscall(SYS_openat, AT_FDCWD, p.as_ptr(), O_RDONLY),
                );
                let how = [O_RDONLY as u64, 0, 0];
                attempt(
                    &format!("openat2 {path}"),
                    syscall(SYS_openat2, AT_FDCWD, p.as_ptr(), how.as_ptr(), 24),
                );
                attempt(
                    &format!("chmod {path}"),
                    syscall(SYS_fchmodat, AT_FDCWD, p.as_ptr(), 0o666),
                );
                attempt(
                    &format!("fchmodat2 {path}"),
                    syscall(452, AT_FDCWD, p.as_ptr(), 0o666, 0),
                );
                attempt(
                    &format!("chown {path}"),
                    syscall(SYS_fchownat, AT_FDCWD, p.as_ptr(), 0, 0, 0),
                );
                let (name, value) = (c("user.probe"), c("x"));
                attempt(
                    &format!("setxattr {path}"),
                    syscall(
                        SYS_setxattr,
                        p.as_ptr(),
                        name.as_ptr(),
                        value.as_ptr(),
                        1,
                        0,
                    ),
                );
                attempt(
                    &format!("removexattr {path}"),
                    syscall(SYS_removexattr, p.as_ptr(), name.as_ptr()),
                );
            }
            let name = c("user.probe");
            attempt("fchmod stdout", syscall(SYS_fchmod, 1, 0o666));
            attempt(
                "fsetxattr stdout",
                syscall(SYS_fsetxattr, 1, name.as_ptr(), name.as_ptr(), 1, 0),
            );
            attempt("unshare user", syscall(SYS_unshare, CLONE_NEWUSER));
            attempt("unshare net", syscall(SYS_unshare, CLONE_NEWNET));
            attempt("unshare mount", syscall(SYS_unshare, CLONE_NEWNS));
            attempt("setns", syscall(SYS_setns, 0, 0));
            attempt(
                "clone a new user namespace",
                syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0),
            );
            attempt("fork", syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
            attempt("clone3", syscall(SYS_clone3, 0, 0));
            let (kind, desc) = (c("user"), c("probe"));
            attempt(
                "add_key",
                syscall(
                    SYS_add_key,
                    kind.as_ptr(),
                    desc.as_ptr(),
                    desc.as_ptr(),
                    5,
                    -2,
                ),
            );
            attempt("keyctl", syscall(SYS_keyctl, 0, -2, 0));
            attempt(
                "request_key",
                syscall(SYS_request_key, kind.as_ptr(), desc.as_ptr(), 0, 0),
            );
            attempt("memfd_create", syscall(SYS_memfd_create, desc.as_ptr(), 0));
            attempt("ptrace", syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0));
            attempt("kill the host", syscall(SYS_kill, getppid(), 0));
            attempt(
                "tgkill the host",
                syscall(SYS_tgkill, getppid(), getppid(), 0),
            );
            let program = c("/bin/true");
            let argv = [program.as_ptr(), std::ptr::null()];
            attempt(
                "execve",
                syscall(
                    SYS_execve,
                    program.as_ptr(),
                    argv.as_ptr(),
                    std::ptr::null::<u8>(),
                ),
            );
            attempt("setuid root", syscall(SYS_setuid, 0));
            attempt("chroot", syscall(SYS_chroot, c("/").as_ptr()));
            attempt(
                "ioctl TIOCSTI",
                syscall(SYS_ioctl, 0, TIOCSTI, c("x").as_ptr()),
            );
            attempt("prctl", syscall(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0));
            attempt("bpf", syscall(SYS_bpf, 0, 0, 0));
            attempt("userfaultfd", syscall(SYS_userfaultfd, 0));
            attempt(
                "perf_event_open",
                syscall(SYS_perf_event_open, 0, 0, -1, -1, 0),
            );
            let limit = [u64::MAX, u64::MAX];
            attempt(
                "raise a limit",
                syscall(SYS_prlimit64, 0, RLIMIT_AS, limit.as_ptr(), 0),
            );
        }
        tried
    }

    #[test]
    #[ignore = "puts the whole process in the cage; run by native_code_in_a_cage_cannot_leave_it"]
    fn caged_probe() {
        let setup = Cage {
            memory_mb: 1024,
            cpu_seconds: 60,
            user: worker_user(None).expect("the default worker user"),
            host_pid: nix::unistd::getppid().as_raw() as u32,
        };
        let files: Vec<String> = std::env::var(FILES_ENV)
            .unwrap_or_default()
            .split(':')
            .filter(|p| !p.is_empty())
            .map(String::from)
            .collect();
        let cage = confine(&setup);
        println!("cage: {}", cage.line());
        for (name, result) in attempts(&files) {
            println!("probe {name}: {}", outcome(result));
        }
        // What a worker needs still works: memory, randomness, clocks, sleeping.
        let mut buffer = vec![1u8; 16 << 20];
        getrandom::fill(&mut buffer[..64]).expect("randomness");
        std::thread::sleep(std::time::Duration::from_millis(1));
        println!("needs: ok {}", buffer.len());
    }

    #[test]
    fn native_code_in_a_cage_cannot_leave_it() {
        let dir = tempfile::tempdir().expect("a folder");
        let mut files = Vec::new();
        for (name, text) in [
            ("state.db", "SQLite format 3"),
            ("tgscript.env", "TELOXIDE_TOKEN=123:secret"),
            ("tenant-b/scripts/private.rhai", "fn on_message(m) {}"),
        ] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&path, text).expect("write");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            files.push(path.display().to_string());
        }
        let exe = std::env::current_exe().expect("the test binary");
        let output = std::process::Command::new(exe)
            .args([
                "--exact",
                "scenario::runner::confine::probe::caged_probe",
                "--ignored",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(FILES_ENV, files.join(":"))
            .output()
            .expect("run the probe");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stdout.contains("needs: ok"),
            "{stdout}\n{stderr}"
        );
        let probes: Vec<&str> = stdout.lines().filter(|l| l.starts_with("probe ")).collect();
        assert!(probes.len() > 60, "{stdout}");
        let allowed: Vec<&&str> = probes.iter().filter(|l| l.ends_with("ALLOWED")).collect();
        assert!(allowed.is_empty(), "left the cage: {allowed:#?}\n{stdout}");
        for file in &files {
            let denied = format!("probe openat {file}: denied");
            assert!(probes.iter().any(|p| p.starts_with(&denied)), "{stdout}");
        }
        // The files are unchanged.
        for file in &files {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file)
                .expect("still there")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o644, "{file}");
        }
        let cage = stdout
            .lines()
            .find_map(|l| l.split_once("cage: ").map(|(_, cage)| cage))
            .unwrap_or_default();
        for layer in ["landlock: no file", "seccomp: allow-list"] {
            assert!(cage.contains(layer), "{cage}");
        }
        println!("{cage}");
    }
}
