//! Hot reload benchmark: write-to-active latency of `tgscript run` (the real binary, real
//! files, the local Bot API server; median and p99 over 100 edits, debounce included) and the
//! cost of one reload in-process (a folder of 10 scenarios, one changed).
//!
//!   cargo bench --bench reload

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tgscript::builtins::offline_engine;
use tgscript::engine::Limits;
use tgscript::host::Host;
use tgscript::sandbox::world::SANDBOX_CHAT_ID;
use tgscript::sandbox::{BotApiServer, World};
use tgscript::scenario::registry::Registry;
use tgscript::scenario::runner::Runner;

const EDITS: usize = 100;
const TOKEN: &str = "123456:bench-token";

fn versioned(v: usize) -> String {
    format!(
        "const V = {v};\nfn on_load() {{ send_message({SANDBOX_CHAT_ID}, `loaded ${{global::V}}`); }}\n\
         fn on_message(msg) {{ reply(`${{global::V}}`); }}\n"
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn report(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{name:<34} n={:<4} median {:>8.3} ms   p99 {:>8.3} ms   min {:>8.3} ms   max {:>8.3} ms",
        ms.len(),
        percentile(&ms, 50.0),
        percentile(&ms, 99.0),
        ms[0],
        ms[ms.len() - 1]
    );
}

fn write_to_active() -> Vec<f64> {
    let server = BotApiServer::start(World::new(), Some(TOKEN)).expect("server");
    let dir = tempfile::tempdir().expect("tempdir");
    let scripts = dir.path().join("scripts");
    std::fs::create_dir_all(&scripts).expect("mkdir");
    let file = scripts.join("main.rhai");
    std::fs::write(&file, versioned(0)).expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tgscript"))
        .args(["run", "scripts"])
        .current_dir(dir.path())
        .env("TELOXIDE_TOKEN", TOKEN)
        .env("TELOXIDE_API_URL", server.url())
        .env("TGSCRIPT_LOG", "warn")
        // The host's own speed, like the plain teloxide bot: no flood-control pacing.
        .env("TGSCRIPT_FLOOD_ENABLED", "false")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start tgscript");
    let loaded = |v: usize| {
        let text = format!("loaded {v}");
        server
            .wait_for(Duration::from_secs(30), |calls| {
                calls
                    .iter()
                    .any(|c| c.params["text"].as_str() == Some(text.as_str()))
            })
            .expect("reload seen");
    };
    loaded(0);
    let mut latencies = Vec::with_capacity(EDITS);
    for v in 1..=EDITS {
        let started = Instant::now();
        std::fs::write(&file, versioned(v)).expect("write");
        loaded(v);
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let _ = child.kill();
    let _ = child.wait();
    latencies
}

fn reload_cost() -> Vec<f64> {
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..10 {
        std::fs::write(
            dir.path().join(format!("s{i}.rhai")),
            format!("import \"perms\" as perms;\nconst N = {i};\nfn on_message(msg) {{ if msg.text == \"x\" {{ tg_chat_permission(msg.from.id, perms::READ_ONLY, perms::NO_MEDIA); }} }}\n"),
        )
        .expect("write");
    }
    let engine = Arc::new(offline_engine(Limits::default(), dir.path()));
    let runner = Arc::new(Runner::Inline(engine));
    let registry = Registry::new(runner, dir.path(), Arc::new(Host::offline()), None);
    registry.reload().expect("first load");
    let changed = dir.path().join("s5.rhai");
    let mut costs = Vec::with_capacity(EDITS);
    for v in 0..EDITS {
        write_with(&changed, v);
        let started = Instant::now();
        let changes = registry.reload().expect("reload");
        costs.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(changes.len(), 1);
    }
    costs
}

fn write_with(path: &Path, v: usize) {
    std::fs::write(
        path,
        format!("const N = {v};\nfn on_message(msg) {{ print(global::N); }}\n"),
    )
    .expect("write");
}

fn main() {
    report("reload cost (10 scenarios, 1 changed)", reload_cost());
    report("write-to-active (run, debounce 25 ms)", write_to_active());
}
