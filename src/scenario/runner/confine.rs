//! The OS limits a worker puts on itself before it runs a script: an address-space and a
//! CPU-time limit (`setrlimit`), no core files, a read-only view of the filesystem with no
//! network and no signals to other processes (Landlock, where the kernel has it), and no
//! sockets, no new processes, no file writes and no raising of its limits (a seccomp filter).
//! What the kernel cannot enforce is reported, not fatal: the host logs the description.

use super::protocol::Setup;
use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, RestrictionStatus, Ruleset,
    RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope,
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};
use std::collections::BTreeMap;

/// The newest Landlock ABI this build asks for; older kernels get what they support.
const LANDLOCK_ABI: ABI = ABI::V6;

/// Confine this process as `setup` says: a one-line description of what is in force.
pub fn confine(setup: &Setup) -> String {
    let mut parts = Vec::new();
    if setup.memory_mb > 0 {
        let bytes = setup.memory_mb.saturating_mul(1024 * 1024);
        parts.push(match set_limit(libc::RLIMIT_AS, bytes, bytes) {
            Ok(()) => format!("address space {} MiB", setup.memory_mb),
            Err(e) => format!("address space: not limited ({e})"),
        });
    }
    if setup.cpu_seconds > 0 {
        // SIGXCPU at the soft limit, SIGKILL at the hard one.
        let hard = setup.cpu_seconds.saturating_add(5);
        parts.push(match set_limit(libc::RLIMIT_CPU, setup.cpu_seconds, hard) {
            Ok(()) => format!("cpu {} s", setup.cpu_seconds),
            Err(e) => format!("cpu: not limited ({e})"),
        });
    }
    let _ = set_limit(libc::RLIMIT_CORE, 0, 0);
    parts.push(match landlock() {
        Ok(status) => format!(
            "landlock: {}",
            match status.ruleset {
                RulesetStatus::FullyEnforced => "enforced",
                RulesetStatus::PartiallyEnforced => "partly enforced (older kernel)",
                RulesetStatus::NotEnforced => "not available in this kernel",
            }
        ),
        Err(e) => format!("landlock: not enforced ({e})"),
    });
    parts.push(match seccomp() {
        Ok(()) => "seccomp: on".to_string(),
        Err(e) => format!("seccomp: off ({e})"),
    });
    parts.join(", ")
}

fn set_limit(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> std::io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: setrlimit reads the struct passed by reference and nothing else.
    match unsafe { libc::setrlimit(resource, &limit) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// Read-only filesystem, no TCP, no signals or abstract sockets outside the worker.
fn landlock() -> Result<RestrictionStatus, String> {
    let read = AccessFs::from_read(LANDLOCK_ABI);
    let root = landlock::PathFd::new("/").map_err(|e| e.to_string())?;
    let root = landlock::PathBeneath::new(root, read);
    let ruleset = || -> Result<RestrictionStatus, landlock::RulesetError> {
        Ruleset::default()
            .set_compatibility(CompatLevel::BestEffort)
            .handle_access(AccessFs::from_all(LANDLOCK_ABI))?
            .handle_access(AccessNet::from_all(LANDLOCK_ABI))?
            .scope(Scope::from_all(LANDLOCK_ABI))?
            .create()?
            .add_rule(root)?
            .restrict_self()
    };
    ruleset().map_err(|e| e.to_string())
}

/// A filter that makes the calls a script worker never needs fail with `EPERM`.
fn seccomp() -> Result<(), String> {
    let arch = std::env::consts::ARCH
        .try_into()
        .map_err(|e: seccompiler::BackendError| e.to_string())?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for call in DENIED {
        rules.insert(*call, Vec::new());
    }
    // Opening a file for writing, creating or truncating it.
    let write_flags = [
        libc::O_WRONLY,
        libc::O_RDWR,
        libc::O_CREAT,
        libc::O_TRUNC,
        libc::O_APPEND,
    ];
    let opens = |flags_arg: u8| -> Result<Vec<SeccompRule>, String> {
        write_flags
            .iter()
            .map(|&flag| {
                let flag = flag as u64;
                let condition = SeccompCondition::new(
                    flags_arg,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::MaskedEq(flag),
                    flag,
                )
                .map_err(|e| e.to_string())?;
                SeccompRule::new(vec![condition]).map_err(|e| e.to_string())
            })
            .collect()
    };
    rules.insert(libc::SYS_openat, opens(2)?);
    #[cfg(target_arch = "x86_64")]
    rules.insert(libc::SYS_open, opens(1)?);
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(|e| e.to_string())?;
    let program: BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| e.to_string())?;
    seccompiler::apply_filter(&program).map_err(|e| e.to_string())
}

/// System calls a worker never makes: network, new processes and programs, debugging other
/// processes, changing files and limits.
const DENIED: &[i64] = &[
    libc::SYS_socket,
    libc::SYS_socketpair,
    libc::SYS_connect,
    libc::SYS_bind,
    libc::SYS_listen,
    libc::SYS_accept4,
    libc::SYS_execve,
    libc::SYS_execveat,
    libc::SYS_clone,
    libc::SYS_clone3,
    libc::SYS_ptrace,
    libc::SYS_process_vm_writev,
    libc::SYS_process_vm_readv,
    libc::SYS_kill,
    libc::SYS_setrlimit,
    libc::SYS_prlimit64,
    libc::SYS_unlinkat,
    libc::SYS_renameat,
    libc::SYS_renameat2,
    libc::SYS_mkdirat,
    libc::SYS_symlinkat,
    libc::SYS_linkat,
    libc::SYS_fchmodat,
    libc::SYS_fchownat,
    libc::SYS_truncate,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_chroot,
    libc::SYS_setuid,
    libc::SYS_setgid,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_fork,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_vfork,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_accept,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_unlink,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_rename,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_mkdir,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_rmdir,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_symlink,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_link,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_chmod,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_chown,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_creat,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Run by the test below in a process of its own: confinement cannot be undone.
    #[test]
    #[ignore = "confines the whole process; run by a_confined_process_can_read_but_not_write_connect_or_spawn"]
    fn confined_child() {
        let setup = Setup {
            limits: crate::engine::Limits::default(),
            memory_mb: 1024,
            cpu_seconds: 60,
        };
        let description = confine(&setup);
        println!("confined: {description}");
        assert!(description.contains("seccomp: on"), "{description}");
        assert!(
            std::fs::read_to_string("/proc/self/status").is_ok(),
            "reads work"
        );
        let file = std::env::temp_dir().join(format!("tgscript-confined-{}", std::process::id()));
        assert!(std::fs::File::create(&file).is_err(), "no file is written");
        assert!(!file.exists());
        assert!(
            std::net::TcpListener::bind("127.0.0.1:0").is_err(),
            "no sockets"
        );
        assert!(
            std::net::TcpStream::connect("127.0.0.1:9").is_err(),
            "no sockets"
        );
        assert!(
            std::process::Command::new("/bin/true").status().is_err(),
            "no programs started"
        );
        // SAFETY: raising a limit is refused by the filter, and the struct is ours.
        let raised = unsafe {
            let limit = libc::rlimit {
                rlim_cur: libc::RLIM_INFINITY,
                rlim_max: libc::RLIM_INFINITY,
            };
            libc::setrlimit(libc::RLIMIT_AS, &limit)
        };
        assert_ne!(raised, 0, "limits stay where they are");
    }

    #[test]
    fn a_confined_process_can_read_but_not_write_connect_or_spawn() {
        let exe = std::env::current_exe().expect("the test binary");
        let output = std::process::Command::new(exe)
            .args([
                "--exact",
                "scenario::runner::confine::tests::confined_child",
                "--ignored",
                "--test-threads=1",
                "--nocapture",
            ])
            .output()
            .expect("run the confined test");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "{stdout}\n{stderr}"
        );
        let line = stdout.lines().find_map(|l| l.split_once("confined: "));
        assert!(line.is_some(), "{stdout}");
        println!("confined: {}", line.map(|(_, d)| d).unwrap_or_default());
    }
}
