//! A throwaway PostgreSQL server for the tests (shared by the unit tests of `src/store` and
//! the integration tests): Debian's `postgresql` binaries (`initdb`, `pg_ctl`, `createdb`,
//! found on `PATH` or under `/usr/lib/postgresql/*/bin`), a cluster in a temporary folder
//! listening on a loopback port, one database per test, stopped when the test process ends.
//! Run as root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
//! [`start`] starts another one, configured further (`tests/it/pg_tls.rs`: one that requires
//! TLS).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// A running server.
pub struct Server {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    /// The user to run the binaries as (uid, gid), when the tests run as root.
    user: Option<(u32, u32)>,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
static DATABASES: AtomicUsize = AtomicUsize::new(0);
/// A server to stop: its binaries, data and user.
type Stoppable = (PathBuf, PathBuf, Option<(u32, u32)>);
/// The servers started, stopped when the test process exits.
static STARTED: Mutex<Vec<Stoppable>> = Mutex::new(Vec::new());

/// The URL of a new, empty database on the test server (started on first use).
pub fn database_url() -> String {
    running(SERVER.get_or_init(|| start(|_, _| Ok(())))).database("")
}

/// `started`'s server, or a panic saying what is missing.
pub fn running(started: &Result<Server, String>) -> &Server {
    match started {
        Ok(server) => server,
        Err(e) => panic!(
            "the PostgreSQL tests need Debian's postgresql package (apt-get install postgresql): {e}"
        ),
    }
}

impl Server {
    /// The URL of a new, empty database on this server, `query` (`?sslmode=…`) appended.
    pub fn database(&self, query: &str) -> String {
        let server = self;
        let name = format!(
            "t{}_{}",
            std::process::id(),
            DATABASES.fetch_add(1, Ordering::SeqCst)
        );
        let created = server
            .command("createdb")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &server.port.to_string(),
                "-U",
                "tgscript",
                &name,
            ])
            .output()
            .expect("createdb runs");
        assert!(
            created.status.success(),
            "createdb {name}: {}",
            String::from_utf8_lossy(&created.stderr)
        );
        format!(
            "postgres://tgscript@127.0.0.1:{}/{name}{query}",
            server.port
        )
    }

    fn command(&self, name: &str) -> Command {
        let mut command = Command::new(self.bin.join(name));
        if let Some((uid, gid)) = self.user {
            // Its home too: libpq looks for a client certificate there, and root's is not
            // the postgres user's to read.
            command.uid(uid).gid(gid);
            if let Some(root) = self.data.parent() {
                command.env("HOME", root);
            }
        }
        command
    }
}

/// Whether `dir` holds the binaries the tests run.
fn has_binaries(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "createdb"]
        .iter()
        .all(|name| dir.join(name).is_file())
}

/// Where `initdb`, `pg_ctl` and `createdb` are.
fn bin_dir() -> Result<PathBuf, String> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    if let Some(dir) = on_path.into_iter().find(|d| has_binaries(d)) {
        return Ok(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("no /usr/lib/postgresql ({e})"))?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| has_binaries(bin))
        .collect();
    versions.sort();
    versions
        .pop()
        .ok_or_else(|| "no initdb, pg_ctl and createdb found".to_string())
}

/// The `postgres` user's ids, when running as root.
fn server_user() -> Result<Option<(u32, u32)>, String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let id = |flag: &str| -> Result<u32, String> {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .map_err(|e| e.to_string())?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| "running as root and there is no postgres user".to_string())
    };
    Ok(Some((id("-u")?, id("-g")?)))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Start a server of its own: `configure` is given its data folder and the user it runs as
/// after `initdb`, before it starts (to add to `postgresql.conf` and `pg_hba.conf`).
pub fn start(
    configure: impl FnOnce(&Path, Option<(u32, u32)>) -> Result<(), String>,
) -> Result<Server, String> {
    static SERVERS: AtomicUsize = AtomicUsize::new(0);
    let bin = bin_dir()?;
    let user = server_user()?;
    let root = std::env::temp_dir().join(format!(
        "tgscript-pg-{}-{}",
        std::process::id(),
        SERVERS.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(&root, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
    }
    let data = root.join("data");
    let mut server = Server {
        bin,
        data: data.clone(),
        port: free_port(),
        user,
    };
    let init = server
        .command("initdb")
        .args(["-D".as_ref(), data.as_os_str()])
        .args(["-U", "tgscript", "--auth=trust", "--no-sync", "-E", "UTF8"])
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !init.status.success() {
        return Err(format!("initdb: {}", String::from_utf8_lossy(&init.stderr)));
    }
    configure(&data, user)?;
    for _ in 0..3 {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            server.port,
            root.display()
        );
        let started = server
            .command("pg_ctl")
            .args(["-D".as_ref(), data.as_os_str()])
            .args(["-o", &options, "-w", "-t", "60"])
            .arg("-l")
            .arg(root.join("log"))
            .arg("start")
            .output()
            .map_err(|e| format!("pg_ctl: {e}"))?;
        if started.status.success() {
            register_stop(&server);
            return Ok(server);
        }
        // The port may have been taken meanwhile: another one.
        server.port = free_port();
    }
    Err(format!(
        "pg_ctl start failed: {}",
        std::fs::read_to_string(root.join("log")).unwrap_or_default()
    ))
}

/// Stop `server` (and the others) when the test process exits.
fn register_stop(server: &Server) {
    extern "C" fn stop() {
        let started = STARTED.lock().unwrap_or_else(|e| e.into_inner());
        for (bin, data, user) in started.iter() {
            let mut command = Command::new(bin.join("pg_ctl"));
            if let Some((uid, gid)) = user {
                command.uid(*uid).gid(*gid);
            }
            let _ = command
                .args(["-D".as_ref(), data.as_os_str()])
                .args(["-m", "immediate", "stop"])
                .output();
            if let Some(root) = data.parent() {
                let _ = std::fs::remove_dir_all(root);
            }
        }
    }
    let mut started = STARTED.lock().unwrap_or_else(|e| e.into_inner());
    if started.is_empty() {
        // SAFETY: `stop` is an `extern "C"` function taking nothing, as atexit expects.
        unsafe {
            libc::atexit(stop);
        }
    }
    started.push((server.bin.clone(), server.data.clone(), server.user));
}
