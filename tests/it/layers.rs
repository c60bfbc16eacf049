//! The architecture as a test: the top-level modules of `src/` import each other without a
//! cycle (layers point down), and the engine imports nothing of tgscript above it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules the engine must never reach: it is the sandbox at the bottom.
const ABOVE_THE_ENGINE: &[&str] = &[
    "builtins", "commands", "host", "inbox", "telegram", "accounts", "scenario", "gateway",
    "effects", "app", "cli", "store", "cluster",
];

/// Which top-level modules each top-level module of the crate rooted at `src` uses
/// (`crate::name` anywhere outside comments).
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    fn files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut all = Vec::new();
    files(src, &mut all);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in all {
        let relative = file.strip_prefix(src).expect("under src");
        let first = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .expect("a name");
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable file");
        let uses = graph.entry(module.clone()).or_default();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or_default();
            for (at, _) in code.match_indices("crate::") {
                let name: String = code[at + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module {
                    uses.insert(name);
                }
            }
        }
    }
    graph
}

/// A cycle among the modules of `graph`, as a path that comes back to where it started.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn top_level_modules_form_no_import_cycle() {
    let graph = module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(graph.len() > 10, "the crate's modules were read: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "modules import each other in a circle: {} (layers must point down: engine ← builtins ← commands ← app ← cli)",
            cycle.join(" → ")
        );
    }
}

#[test]
fn the_engine_imports_nothing_above_it() {
    let graph = module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let engine = graph.get("engine").expect("an engine module");
    let above: Vec<&String> = engine
        .iter()
        .filter(|m| ABOVE_THE_ENGINE.contains(&m.as_str()))
        .collect();
    assert!(above.is_empty(), "engine/ imports {above:?}");
}

#[test]
fn a_back_import_added_on_purpose_is_caught() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("engine")).expect("dirs");
    let write = |file: &str, text: &str| std::fs::write(src.join(file), text).expect(file);
    write("lib.rs", "pub mod engine;\npub mod builtins;\n");
    write(
        "builtins.rs",
        "use crate::engine::ScriptEngine; // on the engine\n",
    );
    write("engine/mod.rs", "// crate::builtins in a comment is fine\n");
    let one_way = find_cycle(&module_graph(&src));
    assert_eq!(one_way, None, "one way down is no cycle");

    write(
        "engine/mod.rs",
        "pub fn f() { crate::builtins::register(); }\n",
    );
    let back = find_cycle(&module_graph(&src));
    assert_eq!(
        back,
        Some(vec!["builtins".into(), "engine".into(), "builtins".into()]),
        "the engine calling back into the builtins closes a circle"
    );
}
