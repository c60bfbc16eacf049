//! A throwaway NATS server with JetStream for the cluster tests: Debian's `nats-server`
//! (on `PATH` or in `/usr/sbin`), on a loopback port with its JetStream files in a temporary
//! folder; killed when dropped. It can be stopped and started again on the same port and
//! files, as a server restart. [`Nats::start_with`] adds to its configuration (users, TLS).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running (or stopped) NATS server.
pub struct Nats {
    binary: PathBuf,
    port: u16,
    store: tempfile::TempDir,
    child: Option<Child>,
    /// More configuration (nats-server's format), if any.
    extra: Option<String>,
}

impl Nats {
    /// Start a server with JetStream on a free loopback port.
    pub fn start() -> Nats {
        Self::started(None)
    }

    /// The same with `extra` in its configuration file (e.g. an `authorization` or a `tls`
    /// block).
    pub fn start_with(extra: &str) -> Nats {
        Self::started(Some(extra.to_string()))
    }

    fn started(extra: Option<String>) -> Nats {
        let binary = ["nats-server", "/usr/sbin/nats-server"]
            .into_iter()
            .map(PathBuf::from)
            .find(|b| {
                Command::new(b)
                    .arg("--version")
                    .output()
                    .is_ok_and(|o| o.status.success())
            })
            .expect(
                "the cluster tests need Debian's nats-server package (apt-get install nats-server)",
            );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut nats = Nats {
            binary,
            port,
            store: tempfile::tempdir().expect("a folder for JetStream"),
            child: None,
            extra,
        };
        nats.resume();
        nats
    }

    /// The URL to give `[cluster] nats_url`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kill the server (a crash: clients see the connection drop).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start the server again on the same port and JetStream files; back once it listens.
    pub fn resume(&mut self) {
        let mut command = Command::new(&self.binary);
        command.args([
            "-a",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-js",
            "-sd",
        ]);
        command.arg(self.store.path());
        if let Some(extra) = &self.extra {
            let file = self.store.path().join("nats.conf");
            std::fs::write(&file, extra).expect("write nats.conf");
            command.arg("-c").arg(file);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server does not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.stop();
    }
}
