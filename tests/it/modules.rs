//! `import` reaches only the embedded stdlib and the scenario folder.

use crate::util::TestDir;

#[test]
fn absolute_path_is_refused() {
    let t = TestDir::new();
    t.write("s/a.rhai", "import \"/etc/passwd\" as p;\n1");
    t.run(&["exec", "s/a.rhai"])
        .expect_code(1)
        .expect_stderr_contains("import \"/etc/passwd\" refused: absolute paths are not allowed");
}

#[test]
fn parent_escape_is_refused() {
    let t = TestDir::new();
    t.write("outside.rhai", "export const SECRET = 1;");
    t.write("s/a.rhai", "import \"../outside\" as p;\np::SECRET");
    t.run(&["exec", "s/a.rhai"])
        .expect_code(1)
        .expect_stderr_contains("import \"../outside\" refused");
}

#[cfg(unix)]
#[test]
fn symlink_out_of_the_folder_is_refused() {
    let t = TestDir::new();
    let outside = t.write("outside.rhai", "export const SECRET = 1;");
    t.write("s/a.rhai", "import \"link\" as p;\np::SECRET");
    std::os::unix::fs::symlink(&outside, t.path().join("s/link.rhai")).expect("symlink");
    t.run(&["exec", "s/a.rhai"])
        .expect_code(1)
        .expect_stderr_contains("refused: it links outside the scenario folder");
}

#[test]
fn stdlib_module_works_from_any_folder() {
    let t = TestDir::new();
    t.write(
        "deep/er/a.rhai",
        "import \"perms\" as perms;\nimport \"time\" as time;\n[perms::READ_ONLY.len(), perms::NO_MEDIA.len(), time::parse_duration(\"10m\")]",
    );
    t.run(&["exec", "deep/er/a.rhai", "--json"])
        .expect_code(0)
        .expect_stdout("[\n  9,\n  6,\n  600\n]\n");
}

#[test]
fn parse_duration_reads_every_unit_and_says_what_it_expected() {
    let t = TestDir::new();
    t.write(
        "d.rhai",
        "import \"time\" as time;\nlet out = [];\nfor d in [\"90\", \"90s\", \"10m\", \"2h\", \"1d\", \"1w\", \"forever\", \"1.5h\", \"-5m\", \"\"] {\n  try { out.push(time::parse_duration(d)); } catch (e) { out.push(e); }\n}\nout",
    );
    t.run(&["exec", "d.rhai", "--json"]).expect_code(0).expect_stdout(
        "[\n  90,\n  90,\n  600,\n  7200,\n  86400,\n  604800,\n  \"expected a duration like 10m, 2h, 1d: 'forever'\",\n  \"expected a duration like 10m, 2h, 1d: '1.5h'\",\n  \"negative duration: -5m\",\n  \"empty duration: write it like 10m, 2h or 1d\"\n]\n",
    );
}

#[test]
fn scenario_folder_module_works() {
    let t = TestDir::new();
    t.write("s/helpers/greet.rhai", "fn hello(name) { `hi ${name}` }");
    t.write(
        "s/a.rhai",
        "import \"helpers/greet\" as g;\ng::hello(\"ann\")",
    );
    t.run(&["exec", "s/a.rhai"])
        .expect_code(0)
        .expect_stdout("hi ann\n");
}

#[test]
fn missing_module_names_what_was_looked_for() {
    let t = TestDir::new();
    t.write("s/a.rhai", "import \"nothere\" as n;\n1");
    t.run(&["exec", "s/a.rhai"])
        .expect_code(1)
        .expect_stderr_contains("no stdlib module of that name and no file");
}

#[test]
fn error_inside_a_module_function_is_located_in_the_module() {
    let t = TestDir::new();
    t.write("s/m.rhai", "fn explode() {\n    throw \"kaboom\";\n}");
    t.write("s/a.rhai", "import \"m\" as m;\nm::explode()");
    t.run(&["exec", "s/a.rhai"])
        .expect_code(1)
        .expect_stderr_contains("m.rhai:2:5: kaboom (in function 'explode')");
}

#[test]
fn a_module_importing_itself_is_refused_with_the_chain() {
    let t = TestDir::new();
    t.write("s/loop.rhai", "import \"loop\" as again;\nfn f() { 1 }");
    t.write("s/a.rhai", "import \"loop\" as l;\nl::f()");
    t.run(&["exec", "s/a.rhai"])
        .expect_code(1)
        .expect_stderr_contains("import cycle: loop → loop");
}

#[test]
fn a_cycle_is_found_however_the_import_spells_the_module() {
    let t = TestDir::new();
    t.write("s/a.rhai", "import \"./a\" as again;\nfn f() { 1 }");
    t.write("s/main.rhai", "import \"a\" as a;\na::f()");
    t.run(&["exec", "s/main.rhai"])
        .expect_code(1)
        .expect_stderr_contains("import cycle: a → ./a");
}

#[test]
fn check_resolves_imports_against_the_folder_given_as_run_does() {
    let t = TestDir::new();
    t.write(
        "scripts/lib/a.rhai",
        "import \"lib/b\" as b;\nfn x() { b::y() }",
    );
    t.write("scripts/lib/b.rhai", "fn y() { 1 }");
    t.write(
        "scripts/use.rhai",
        "import \"lib/a\" as a;\nfn on_message(msg) { a::x() }",
    );
    t.run(&["check", "scripts"]).expect_code(0);
}

#[test]
fn check_finds_an_import_cycle_and_a_missing_module() {
    let t = TestDir::new();
    t.write("s/m/a.rhai", "import \"m/b\" as b;\nfn x() { 1 }");
    t.write("s/m/b.rhai", "import \"m/a\" as a;\nfn y() { 2 }");
    t.write(
        "s/cyclic.rhai",
        "import \"m/a\" as a;\nfn on_message(msg) { a::x() }",
    );
    t.write(
        "s/missing.rhai",
        "import \"nope\" as n;\nfn on_message(msg) { }",
    );
    t.write(
        "s/fine.rhai",
        "import \"perms\" as perms;\nfn on_message(msg) { }",
    );
    t.run(&["check", "s/cyclic.rhai", "s/missing.rhai", "s/fine.rhai"])
        .expect_code(1)
        .expect_stdout_contains("import cycle: m/a → m/b → m/a")
        .expect_stdout_contains("module \"nope\" not found")
        .expect_stderr_contains("2 problems in 3 files");
}

#[test]
fn an_import_cycle_is_a_load_error_and_the_bot_goes_on() {
    let t = TestDir::new();
    t.write("scripts/m/a.rhai", "import \"m/b\" as b;\nfn x() { 1 }");
    t.write("scripts/m/b.rhai", "import \"m/a\" as a;\nfn y() { 2 }");
    t.write(
        "scripts/cyclic.rhai",
        "import \"m/a\" as a;\nfn on_message(msg) { reply(\"never\"); }\n",
    );
    t.write(
        "scripts/echo.rhai",
        "fn on_message(msg) { reply(`echo ${msg.text}`); }\n",
    );
    let done = t.run_chat("hello\n");
    assert!(
        done.stderr.contains("import cycle: m/a → m/b → m/a"),
        "{}",
        done.stderr
    );
    assert!(done.stdout.contains("echo hello"), "{}", done.stdout);
    assert!(!done.stdout.contains("never"), "{}", done.stdout);
}
