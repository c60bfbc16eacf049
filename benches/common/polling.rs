//! A `tgscript run` polling a local Bot API server, as the end-to-end benches start it, and
//! the median they report.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tgscript::sandbox::BotApiServer;

/// Start `binary run scripts` in `dir` against `server` as bot `token`, without flood-control
/// pacing (the host's own speed, like the plain teloxide bot), its warnings and errors echoed;
/// returns once it polls.
pub fn start(binary: &Path, dir: &Path, server: &BotApiServer, token: &str) -> Child {
    let mut child = Command::new(binary)
        .args(["run", "scripts"])
        .current_dir(dir)
        .env("TELOXIDE_TOKEN", token)
        .env("TELOXIDE_API_URL", server.url())
        .env("TGSCRIPT_DATA_DIR", dir.join(".data"))
        .env("TGSCRIPT_LOG", "warn")
        .env("TGSCRIPT_FLOOD_ENABLED", "false")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tgscript run");
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("  tgscript: {line}");
        }
    });
    // getWebhookInfo comes right before the first getUpdates (which the server does not
    // record); updates queued meanwhile come with it.
    server
        .wait_for(Duration::from_secs(30), |calls| {
            calls
                .iter()
                .any(|c| c.method.eq_ignore_ascii_case("getWebhookInfo"))
        })
        .expect("tgscript starts polling");
    child
}

/// The median of `values`.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
