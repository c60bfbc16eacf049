//! A small harness in the style of ripgrep's `TestCommand`: a fresh temp folder, files written
//! into it, and the real binary run there. Failures print the command, folder and output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// A temporary folder to write scripts into and run `tgscript` in.
pub struct TestDir {
    dir: tempfile::TempDir,
    /// The PostgreSQL database the folder's runs keep their store in, with
    /// `TGSCRIPT_TEST_STORE=postgres` (made on first use).
    store_url: std::sync::OnceLock<Option<String>>,
}

/// The result of one run of the binary.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    described: String,
}

impl TestDir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("create a temp dir"),
            store_url: std::sync::OnceLock::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// With `TGSCRIPT_TEST_STORE=postgres` (the whole suite against PostgreSQL), the
    /// `TGSCRIPT_STORE_URL` of this folder's own database; a test's own setting wins, a
    /// `[store]` of its `tgscript.toml` too.
    fn store_env(&self) -> Option<(&'static str, String)> {
        let own = std::fs::read_to_string(self.path().join("tgscript.toml"))
            .is_ok_and(|config| config.contains("[store]"));
        if own {
            return None;
        }
        self.store_url
            .get_or_init(|| {
                (std::env::var("TGSCRIPT_TEST_STORE").as_deref() == Ok("postgres"))
                    .then(crate::pg::database_url)
            })
            .clone()
            .map(|url| ("TGSCRIPT_STORE_URL", url))
    }

    /// Write `content` to `name` (folders created as needed) and return its path.
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folders");
        }
        std::fs::write(&path, content).expect("write file");
        path
    }

    /// Run `tgscript ARGS...` in this folder with a clean `TGSCRIPT_*` environment.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_env(args, &[])
    }

    /// Same as [`TestDir::run`] with extra environment variables.
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let output: Output = self.command(args, env).output().expect("run tgscript");
        self.finished(args, output)
    }

    /// Same as [`TestDir::run_with_env`], with the variables `removed` unset.
    pub fn run_without(&self, args: &[&str], env: &[(&str, &str)], removed: &[&str]) -> Run {
        let mut command = self.command(args, env);
        for name in removed {
            command.env_remove(name);
        }
        let output: Output = command.output().expect("run tgscript");
        self.finished(args, output)
    }

    /// Same as [`TestDir::run_with_env`], also measuring the CPU time (user and system) the
    /// process used, its own alone (`wait4`), whatever else the test process runs meanwhile.
    pub fn run_measuring_cpu(&self, args: &[&str], env: &[(&str, &str)]) -> (Run, Duration) {
        use std::io::Read;
        use std::os::unix::process::ExitStatusExt;
        #[expect(
            clippy::zombie_processes,
            reason = "waited for with wait4, which gives its resource usage"
        )]
        let mut child = self
            .command(args, env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run tgscript");
        let read = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut pipe) = pipe {
                    pipe.read_to_end(&mut bytes).expect("read the output");
                }
                bytes
            })
        };
        let stdout = read(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let stderr = read(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let pid = libc::pid_t::try_from(child.id()).expect("a pid");
        let mut status = 0;
        // SAFETY: `rusage` is plain integers, for which all zeroes is a value.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: the pointers are to live locals; the child is ours and waited for once,
        // here (its `Child` is never waited on).
        let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
        let time = |t: libc::timeval| {
            Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
                + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
        };
        let cpu = time(usage.ru_utime) + time(usage.ru_stime);
        let output = Output {
            status: std::process::ExitStatus::from_raw(status),
            stdout: stdout.join().expect("stdout reader"),
            stderr: stderr.join().expect("stderr reader"),
        };
        (self.finished(args, output), cpu)
    }

    /// The command `tgscript ARGS...` in this folder with a clean `TGSCRIPT_*` environment and
    /// `env` added.
    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tgscript"));
        cmd.args(args)
            .current_dir(self.path())
            .stdin(Stdio::null())
            .env_remove("TELOXIDE_TOKEN")
            .env("TGSCRIPT_LOG", "warn");
        for (key, _) in std::env::vars() {
            if key.starts_with("TGSCRIPT_") && key != "TGSCRIPT_LOG" {
                cmd.env_remove(key);
            }
        }
        // Each test folder has its own data dir (state database, REPL history), and no config
        // file of the user's is found.
        cmd.env("TGSCRIPT_DATA_DIR", self.path().join(".data"));
        cmd.env("XDG_CONFIG_HOME", self.path().join(".config"));
        cmd.envs(NO_FLOOD_CONTROL);
        cmd.envs(self.store_env());
        for (key, value) in env {
            cmd.env(key, value);
        }
        cmd
    }

    /// The run of `tgscript ARGS...` that ended with `output`.
    fn finished(&self, args: &[&str], output: Output) -> Run {
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let listing: Vec<String> = walk(self.path())
            .iter()
            .map(|p| {
                p.strip_prefix(self.path())
                    .unwrap_or(p)
                    .display()
                    .to_string()
            })
            .collect();
        let described = format!(
            "command: tgscript {}\ncwd: {}\nfiles: {:?}\nexit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            args.join(" "),
            self.path().display(),
            listing,
            output.status.code(),
            stdout,
            stderr
        );
        Run {
            code: output.status.code(),
            stdout,
            stderr,
            described,
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

impl Run {
    /// Assert the exit code, showing everything on failure.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code\n{}",
            self.described
        );
        self
    }

    /// Assert stdout equals `expected` exactly.
    pub fn expect_stdout(&self, expected: &str) -> &Self {
        assert_eq!(
            self.stdout, expected,
            "unexpected stdout\n{}",
            self.described
        );
        self
    }

    /// Assert stderr contains `needle`.
    pub fn expect_stderr_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.described
        );
        self
    }

    /// Assert stdout contains `needle`.
    pub fn expect_stdout_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.described
        );
        self
    }
}

/// Flood control off: tests post many messages into one chat at once; the raid test in
/// `flood.rs` turns it on with fast rates.
pub const NO_FLOOD_CONTROL: [(&str, &str); 1] = [("TGSCRIPT_FLOOD_ENABLED", "false")];

/// A token shaped like a real one; tests check it never shows in any output.
pub const TOKEN: &str = "123456789:AAHsecretTokenForTests_abcdefghijklmno";

/// A `tgscript` process running in the background (e.g. `run`): stdout goes to a file,
/// stderr is read as it comes so tests can wait for a log line.
pub struct Background {
    child: std::process::Child,
    stdout: PathBuf,
    stderr: Arc<(Mutex<String>, Condvar)>,
    reader: Option<std::thread::JoinHandle<()>>,
    described: String,
}

/// What a background run printed, once it ended.
pub struct Finished {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// stdout and stderr together, for "never printed" checks.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl TestDir {
    /// `tgscript run scripts` on the sandbox here, fed `chat` as its input and run to the end
    /// of it; asserts it ended well.
    pub fn run_chat(&self, chat: &str) -> Finished {
        let input = self.write(".chat", chat);
        let stdin = std::fs::File::open(input).expect("chat input");
        let done = self
            .spawn_with_input(&["run", "scripts"], &[], stdin.into())
            .wait();
        assert_eq!(done.code, Some(0), "{}", done.all_output());
        done
    }

    /// Start `tgscript ARGS...` in this folder with `env` set and `stdin` as its input.
    pub fn spawn_with_input(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: Stdio,
    ) -> Background {
        let stdout = self.path().join(".stdout");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tgscript"));
        // A process group of its own, as a shell gives a command: a signal to the group
        // (Ctrl-C in a terminal) reaches it and its children, not the test.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        cmd.args(args)
            .current_dir(self.path())
            .stdin(stdin)
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(Stdio::piped())
            .env_remove("TELOXIDE_TOKEN")
            .env_remove("TGSCRIPT_TEST_STORE")
            .env("TGSCRIPT_DATA_DIR", self.path().join(".data"))
            .env("TGSCRIPT_LOG", "info")
            .envs(NO_FLOOD_CONTROL)
            .envs(self.store_env());
        for (key, value) in env {
            cmd.env(key, value);
        }
        let mut child = cmd.spawn().expect("start tgscript");
        let stderr = Arc::new((Mutex::new(String::new()), Condvar::new()));
        let pipe = child.stderr.take().expect("stderr pipe");
        let sink = stderr.clone();
        let reader = std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                let (text, changed) = &*sink;
                let mut text = text.lock().unwrap_or_else(|e| e.into_inner());
                text.push_str(&line);
                text.push('\n');
                changed.notify_all();
            }
        });
        Background {
            child,
            stdout,
            stderr,
            reader: Some(reader),
            described: format!("tgscript {}", args.join(" ")),
        }
    }

    /// Start `tgscript ARGS...` in this folder, stdin closed, with `env` set.
    pub fn spawn(&self, args: &[&str], env: &[(&str, &str)]) -> Background {
        self.spawn_with_input(args, env, Stdio::null())
    }
}

impl Background {
    /// The address its gateway listens on (`host:port`), once it says so in its log.
    pub fn gateway_address(&self) -> String {
        self.address_after("gateway listening on http://")
    }

    /// The address its webhook listener listens on (`host:port`), once it says so.
    pub fn webhook_address(&self) -> String {
        self.address_after("webhook listener on http://")
    }

    /// The address the log gives right after `marker`, once it does.
    fn address_after(&self, marker: &str) -> String {
        self.wait_stderr(marker, 1, std::time::Duration::from_secs(30));
        self.stderr_so_far()
            .split(marker)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .map(|address| address.trim_end_matches('/').to_string())
            .unwrap_or_else(|| panic!("an address after {marker:?} in the log"))
    }

    /// Ctrl-C (SIGINT), then wait for the process and collect its output.
    pub fn interrupt(self) -> Finished {
        self.signal("-INT")
    }

    /// Ctrl-C in a terminal: SIGINT to its whole process group (workers included, unless
    /// they left it), then wait and collect the output.
    pub fn interrupt_group(self) -> Finished {
        let group = format!("-{}", self.child.id());
        self.signal_target("-INT", &group)
    }

    /// SIGTERM (`systemctl stop`, `docker stop`), then wait and collect the output.
    pub fn terminate(self) -> Finished {
        self.signal("-TERM")
    }

    /// Send signal `which` (e.g. `-HUP`) and go on: the process is not waited for.
    pub fn send_signal(&self, which: &str) {
        let status = Command::new("kill")
            .args([which, "--", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "could not signal {}", self.described);
    }

    fn signal(self, which: &str) -> Finished {
        let pid = self.child.id().to_string();
        self.signal_target(which, &pid)
    }

    fn signal_target(mut self, which: &str, target: &str) -> Finished {
        let status = Command::new("kill")
            .args([which, "--", target])
            .status()
            .expect("run kill");
        assert!(status.success(), "could not signal {}", self.described);
        self.wait()
    }

    /// `kill -9` (SIGKILL): no chance to clean up; wait for it and collect its output.
    pub fn kill9(mut self) -> Finished {
        self.child.kill().expect("SIGKILL tgscript");
        self.wait()
    }

    /// Wait for the process to end by itself and collect its output.
    pub fn wait(&mut self) -> Finished {
        let status = self.child.wait().expect("wait for tgscript");
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        Finished {
            code: status.code(),
            stdout: std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            stderr: self.stderr_so_far(),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it has printed to stderr so far.
    pub fn stderr_so_far(&self) -> String {
        self.stderr
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Wait until stderr holds `needle` at least `count` times; panics after `timeout`.
    pub fn wait_stderr(&self, needle: &str, count: usize, timeout: std::time::Duration) {
        let deadline = std::time::Instant::now() + timeout;
        let (text, changed) = &*self.stderr;
        let mut text = text.lock().unwrap_or_else(|e| e.into_inner());
        while text.matches(needle).count() < count {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(
                !left.is_zero(),
                "stderr never held {needle:?} {count} time(s):\n{text}"
            );
            text = changed
                .wait_timeout(text, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The start of a stand-in worker in Python (what native code in a compromised worker could
/// do): `read()` and `write(message)` speak the pipe's frames, the setup is read and `Ready`
/// answered; the test appends what it does next.
pub const STAND_IN_WORKER: &str = r#"#!/usr/bin/env python3
import json, struct, sys
inp, out = sys.stdin.buffer, sys.stdout.buffer
def read():
    head = inp.read(4)
    if len(head) < 4:
        sys.exit(0)
    return json.loads(inp.read(struct.unpack("<I", head)[0]))
def write(message):
    body = json.dumps(message).encode()
    out.write(struct.pack("<I", len(body)) + body)
    out.flush()
read()
write({"Ready": {"confinement": {"layers": [{"name": "stand-in", "enforced": False, "detail": "a stand-in"}]}}})
"#;

/// Serve `app` on a free loopback port from a thread of its own (for the life of the test
/// process); the port.
pub fn serve_on_loopback(app: axum::Router) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let _ = axum::serve(listener, app).await;
        });
    });
    port
}

/// `tgscript <args>` in `t` on the sandbox (no token, logs at `warn`), with `env` added and
/// `input` piped in; its output once it ends.
pub fn piped(t: &TestDir, args: &[&str], env: &[(&str, &str)], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgscript"))
        .args(args)
        .current_dir(t.path())
        .env_remove("TELOXIDE_TOKEN")
        .env("TGSCRIPT_DATA_DIR", t.path().join(".data"))
        .env_remove("TGSCRIPT_TEST_STORE")
        .env("TGSCRIPT_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tgscript");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write the input");
    child
        .wait_with_output()
        .expect("tgscript ends at end of input")
}
