//! The architecture as a test: every top-level module of `src/` sits on one of the declared
//! [`FLOORS`], imports only modules on its own floor or below, and the modules of one floor
//! import each other without a cycle. A new module fails here until it is placed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The floors of the crate, bottom to top, each with what it holds. A top-level module of
/// `src/` may import modules on its own floor (without a cycle) or below it, never above.
/// This list is the order; `src/lib.rs` and ARCHITECTURE.md point here.
const FLOORS: &[(&str, &[&str])] = &[
    (
        "values: plain types and process-wide records, importing nothing of tgscript's but each other",
        &[
            "activity",
            "budget",
            "clock",
            "figures",
            "lanes",
            "request",
            "stdlib",
            "telemetry",
        ],
    ),
    (
        "the engine: sandboxed Rhai, knowing nothing of Telegram, accounts or storage",
        &["engine"],
    ),
    (
        "connections: the Bot API client, accounts, outbound HTTP, the database, logs, the configuration, the cluster",
        &[
            "accounts", "cluster", "config", "http", "logging", "store", "telegram",
        ],
    ),
    (
        "the effects interface, and the tools that only read the engine",
        &["check", "docs", "effects", "repl"],
    ),
    (
        "commands: one table per command family, acting through effects",
        &["commands"],
    ),
    (
        "users of the command tables: the Rhai builtins, the caller's authority, the simulated world",
        &["authority", "builtins", "sandbox"],
    ),
    (
        "servers of effects: the in-process host and the inbox with its journal",
        &["host", "inbox"],
    ),
    (
        "scenarios: loading, dispatch, runners and workers",
        &["scenario"],
    ),
    (
        "the edges: the JSON gateway, and update intake (polling, webhook, cluster feed, account events, timers → inbox → dispatch)",
        &["gateway", "intake"],
    ),
    (
        "the application: one value `run`, `serve`, `repl` and `exec` are built from",
        &["app"],
    ),
    ("the command line: arguments in, one error out", &["cli"]),
];

/// Imports that must never appear, whatever the floors say: the builtins and the command
/// tables reach the world only through `effects`, never through the host that serves it or
/// anything above.
const NEVER: &[(&str, &[&str])] = &[
    ("builtins", &["host", "app", "gateway", "cli", "scenario"]),
    ("commands", &["host", "app", "gateway", "cli", "scenario"]),
];

/// The only modules the engine may import: it is the sandbox at the bottom.
const ENGINE_MAY_USE: &[&str] = &["activity", "budget", "stdlib"];

/// Where a module first names another: the file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Import {
    file: PathBuf,
    line: usize,
}

/// The top-level modules of the crate rooted at `src`, each with the top-level modules it
/// uses (`crate::name` or `crate::{name, …}` anywhere outside `//` comments) and where.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeMap<String, Import>> {
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
    all.sort();
    let mut graph: BTreeMap<String, BTreeMap<String, Import>> = BTreeMap::new();
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
        let code: Vec<&str> = text
            .lines()
            .map(|line| line.split("//").next().unwrap_or_default())
            .collect();
        let uses = graph.entry(module.clone()).or_default();
        for (name, line) in crate_paths(&code) {
            if name != module {
                uses.entry(name).or_insert(Import {
                    file: relative.to_path_buf(),
                    line,
                });
            }
        }
    }
    graph
}

/// The first segment of every `crate::` path in `code` (lines, comments removed), with its
/// line number; a group `crate::{a::X, b}` (over several lines too) gives each of its items.
fn crate_paths(code: &[&str]) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    // Inside `crate::{…}`: how deep in braces, and whether the next word starts an item.
    let mut group: Option<(u32, bool)> = None;
    for (index, line) in code.iter().enumerate() {
        let number = index + 1;
        let mut rest: &str = line;
        while !rest.is_empty() {
            let Some((depth, expecting)) = group.as_mut() else {
                let Some(at) = rest.find("crate::") else {
                    break;
                };
                rest = &rest[at + "crate::".len()..];
                match rest.strip_prefix('{') {
                    Some(inside) => {
                        group = Some((1, true));
                        rest = inside;
                    }
                    None => found.push((identifier(rest), number)),
                }
                continue;
            };
            let mut consumed = rest.len();
            for (at, c) in rest.char_indices() {
                if *expecting && !c.is_whitespace() {
                    *expecting = false;
                    found.push((identifier(&rest[at..]), number));
                }
                match c {
                    '{' => *depth += 1,
                    ',' if *depth == 1 => *expecting = true,
                    '}' => {
                        *depth -= 1;
                        if *depth == 0 {
                            consumed = at + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            if group.is_some_and(|(depth, _)| depth == 0) {
                group = None;
            }
            rest = &rest[consumed..];
        }
    }
    found.retain(|(name, _)| !name.is_empty() && name != "self");
    found
}

/// The identifier `text` starts with (empty if none).
fn identifier(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The floor (index into [`FLOORS`]) each declared module is on.
fn floor_of() -> BTreeMap<&'static str, usize> {
    let mut floors = BTreeMap::new();
    for (floor, (_, modules)) in FLOORS.iter().enumerate() {
        for module in *modules {
            let before = floors.insert(*module, floor);
            assert_eq!(before, None, "`{module}` is declared on two floors");
        }
    }
    floors
}

/// Every way `graph` breaks the floors: a module on no floor, or an import of a module on a
/// higher floor (naming both and where the import is).
fn floor_violations(graph: &BTreeMap<String, BTreeMap<String, Import>>) -> Vec<String> {
    let floors = floor_of();
    let mut problems = Vec::new();
    for (module, uses) in graph {
        let Some(&own) = floors.get(module.as_str()) else {
            problems.push(format!(
                "`{module}` is on no floor: place it in FLOORS in tests/it/layers.rs"
            ));
            continue;
        };
        for (used, at) in uses {
            match floors.get(used.as_str()) {
                Some(&theirs) if theirs > own => problems.push(format!(
                    "`{module}` (floor {}: {}) imports `{used}` (floor {}: {}) above it, at src/{}:{}",
                    own + 1,
                    FLOORS[own].0,
                    theirs + 1,
                    FLOORS[theirs].0,
                    at.file.display(),
                    at.line
                )),
                // Unplaced imported modules are reported as modules on no floor.
                _ => {}
            }
        }
    }
    problems
}

/// A cycle among the modules of `graph`, as a path that comes back to where it started.
fn find_cycle(graph: &BTreeMap<String, BTreeMap<String, Import>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeMap<String, Import>>,
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
        for next in graph.get(node).into_iter().flat_map(|uses| uses.keys()) {
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

/// The crate's own module graph.
fn this_crate() -> BTreeMap<String, BTreeMap<String, Import>> {
    let graph = module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(
        graph.len() > 10 && graph.contains_key("engine"),
        "the crate's modules were read: {graph:?}"
    );
    graph
}

#[test]
fn every_module_is_on_a_floor_and_imports_only_down() {
    let problems = floor_violations(&this_crate());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn top_level_modules_form_no_import_cycle() {
    if let Some(cycle) = find_cycle(&this_crate()) {
        panic!(
            "modules import each other in a circle: {} (modules of one floor may import each other one way only)",
            cycle.join(" → ")
        );
    }
}

#[test]
fn builtins_and_commands_never_import_the_host_or_anything_above_them() {
    let graph = this_crate();
    let floors = floor_of();
    for (module, forbidden) in NEVER {
        let uses = graph.get(*module).expect("a module named in NEVER exists");
        for never in *forbidden {
            if let Some(at) = uses.get(*never) {
                panic!(
                    "`{module}` imports `{never}` at src/{}:{}: it must reach the world only through `effects`",
                    at.file.display(),
                    at.line
                );
            }
            assert!(
                floors[never] > floors[module],
                "FLOORS and NEVER disagree: `{never}` must sit above `{module}`"
            );
        }
    }
}

#[test]
fn the_engine_imports_nothing_above_it() {
    let graph = this_crate();
    let engine = graph.get("engine").expect("an engine module");
    let above: Vec<&String> = engine
        .keys()
        .filter(|m| !ENGINE_MAY_USE.contains(&m.as_str()))
        .collect();
    assert!(above.is_empty(), "engine/ imports {above:?}");
    let floors = floor_of();
    for module in ENGINE_MAY_USE {
        assert!(
            floors[module] < floors["engine"],
            "`{module}` must sit below the engine"
        );
    }
}

#[test]
fn every_floor_names_a_module_of_src() {
    let graph = this_crate();
    let stale: Vec<&str> = floor_of()
        .into_keys()
        .filter(|m| !graph.contains_key(*m))
        .collect();
    assert!(
        stale.is_empty(),
        "FLOORS names modules src/ no longer has (remove them): {stale:?}"
    );
}

#[test]
fn a_back_import_added_on_purpose_is_caught() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("engine")).expect("dirs");
    let write = |file: &str, text: &str| std::fs::write(src.join(file), text).expect(file);
    write(
        "lib.rs",
        "pub mod engine;\npub mod builtins;\npub mod host;\n",
    );
    write(
        "builtins.rs",
        "use crate::engine::ScriptEngine; // on the engine\n",
    );
    write("engine/mod.rs", "// crate::builtins in a comment is fine\n");
    write(
        "host.rs",
        "use crate::{\n    engine::Limits,\n    builtins,\n};\n",
    );
    let one_way = module_graph(&src);
    assert_eq!(find_cycle(&one_way), None, "one way down is no cycle");
    assert_eq!(floor_violations(&one_way), Vec::<String>::new());
    assert_eq!(
        one_way["host"].keys().collect::<Vec<_>>(),
        ["builtins", "engine"],
        "a group import over several lines names each module"
    );

    // Upward but no circle: the builtins reaching for the host that serves them.
    write(
        "builtins.rs",
        "use crate::engine::ScriptEngine;\n\nfn f() { crate::host::Host::offline(); }\n",
    );
    write("host.rs", "use crate::engine::Limits;\n");
    let upward = module_graph(&src);
    assert_eq!(
        find_cycle(&upward),
        None,
        "no circle, only a wrong direction"
    );
    let problems = floor_violations(&upward);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("`builtins` (floor 6")
            && problems[0].contains("imports `host` (floor 7")
            && problems[0].ends_with("at src/builtins.rs:3"),
        "the module, the import and where: {problems:?}"
    );

    // A circle: the engine calling back into the builtins.
    write("builtins.rs", "use crate::engine::ScriptEngine;\n");
    write(
        "engine/mod.rs",
        "pub fn f() { crate::builtins::register(); }\n",
    );
    let back = module_graph(&src);
    assert_eq!(
        find_cycle(&back),
        Some(vec!["builtins".into(), "engine".into(), "builtins".into()]),
        "the engine calling back into the builtins closes a circle"
    );
    assert!(
        floor_violations(&back)
            .iter()
            .any(|p| p.starts_with("`engine`") && p.contains("imports `builtins`")),
        "and breaks the floors"
    );

    // A new module nobody placed.
    write("gadgets.rs", "use crate::engine::ScriptEngine;\n");
    let unplaced = floor_violations(&module_graph(&src));
    assert!(
        unplaced
            .iter()
            .any(|p| p.starts_with("`gadgets` is on no floor")),
        "{unplaced:?}"
    );
}
