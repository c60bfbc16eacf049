//! `check` and a load agree: a corpus of broken scenarios, each refused by `tgscript check`
//! and by `tgscript run` (the same checks), and a good one accepted by both.

use crate::util::TestDir;
use std::collections::BTreeSet;

/// Broken scenarios: (file, source, words the problem contains).
const BROKEN: &[(&str, &str, &str)] = &[
    (
        "top_let.rhai",
        "let x = 5;\nfn on_message(msg) { }\n",
        "top level may only hold",
    ),
    (
        "top_call.rhai",
        "print(\"hi\");\nfn on_message(msg) { }\n",
        "top level may only hold",
    ),
    (
        "top_if.rhai",
        "if now() > 0 { print(\"x\"); }\nfn on_message(msg) { }\n",
        "top level may only hold",
    ),
    (
        "top_for.rhai",
        "for i in 0..3 { print(i); }\nfn on_message(msg) { }\n",
        "top level may only hold",
    ),
    (
        "import_missing.rhai",
        "import \"nope\" as n;\nfn on_message(msg) { }\n",
        "nope",
    ),
    (
        "import_missing_sub.rhai",
        "import \"lib/missing\" as m;\nfn on_message(msg) { }\n",
        "missing",
    ),
    (
        "no_param.rhai",
        "fn on_message() { }\n",
        "on_message takes 1 parameter",
    ),
    (
        "command_arity.rhai",
        "fn on_command(cmd) { }\n",
        "on_command takes 3 parameters",
    ),
    (
        "load_arity.rhai",
        "fn on_load(x) { }\n",
        "on_load takes 0 parameters",
    ),
    (
        "callback_arity.rhai",
        "fn on_callback_query(q, extra) { }\n",
        "on_callback_query takes 1 parameter",
    ),
    (
        "account_arity.rhai",
        "fn on_account_update(u) { }\n",
        "on_account_update takes 2 parameters",
    ),
    (
        "misspelled.rhai",
        "fn on_mesage(msg) { }\n",
        "did you mean 'on_message'",
    ),
    (
        "misspelled_payment.rhai",
        "fn on_pre_checkout_querry(query) { }\n",
        "did you mean 'on_pre_checkout_query'",
    ),
    (
        "payment_arity.rhai",
        "fn on_successful_payment() { }\n",
        "on_successful_payment takes 1 parameter",
    ),
    (
        "misspelled_update.rhai",
        "fn on_updte(update) { }\n",
        "did you mean 'on_update'",
    ),
    (
        "unknown_fn.rhai",
        "fn on_message(msg) { member_gett(msg.from.id); }\n",
        "unknown function 'member_gett'",
    ),
    (
        "typo_builtin.rhai",
        "fn on_message(msg) { tg_chat_permision(1, [], []); }\n",
        "did you mean 'tg_chat_permission'",
    ),
    (
        "undefined_helper.rhai",
        "fn on_message(msg) { helper(1); }\n",
        "unknown function 'helper'",
    ),
    (
        "builtin_arity.rhai",
        "fn on_message(msg) { reply(1, 2, 3, 4, 5); }\n",
        "reply takes",
    ),
    (
        "script_arity.rhai",
        "fn helper(a) { a }\nfn on_message(msg) { helper(1, 2); }\n",
        "helper takes 1 argument",
    ),
    (
        "syntax.rhai",
        "fn on_message(msg) {\n    let = 1;\n}\n",
        "2:9",
    ),
    (
        "unterminated.rhai",
        "fn on_message(msg) { reply(\"hi); }\n",
        "nterminated",
    ),
    (
        "eval.rhai",
        "fn on_message(msg) { eval(\"1\"); }\n",
        "eval is disabled",
    ),
    (
        "account_updates.rhai",
        "const ACCOUNT_UPDATES = 5;\nfn on_account_update(id, u) { }\n",
        "ACCOUNT_UPDATES must be a list",
    ),
    (
        "cycle.rhai",
        "import \"lib/a\" as a;\nfn on_message(msg) { }\n",
        "lib/",
    ),
];

const GOOD: &str = "import \"lib/ok\" as ok;\nconst LIMIT = 3;\nfn on_message(msg) {\n    if msg.text.len() > global::LIMIT { reply(ok::WORD); }\n    note(msg);\n}\nfn note(m) { m.text }\nfn on_load() { }\n";

#[test]
fn check_and_a_load_refuse_the_same_broken_scenarios() {
    let t = TestDir::new();
    for (name, source, _) in BROKEN {
        t.write(&format!("scripts/{name}"), source);
    }
    t.write("scripts/good.rhai", GOOD);
    t.write("scripts/lib/ok.rhai", "export const WORD = \"long\";\n");
    t.write("scripts/lib/a.rhai", "import \"lib/b\" as b;\n");
    t.write("scripts/lib/b.rhai", "import \"lib/a\" as a;\n");

    let checked = t.run(&["check", "scripts"]);
    checked.expect_code(1);
    let by_check: BTreeSet<String> = BROKEN
        .iter()
        .filter(|(name, _, _)| checked.stdout.contains(&format!("scripts/{name}:")))
        .map(|(name, _, _)| name.to_string())
        .collect();
    assert!(!checked.stdout.contains("good.rhai"), "{}", checked.stdout);

    let ran = t.run_chat("hello there\n");
    let log = ran.all_output();
    let by_load: BTreeSet<String> = BROKEN
        .iter()
        .filter(|(name, _, _)| log.contains(&format!("reload of scripts/{name} failed")))
        .map(|(name, _, _)| name.to_string())
        .collect();
    assert!(log.contains("loaded scripts/good.rhai: ok"), "{log}");
    let all: BTreeSet<String> = BROKEN.iter().map(|(n, _, _)| n.to_string()).collect();
    assert_eq!(
        by_check, all,
        "check refuses every one:\n{}",
        checked.stdout
    );
    assert_eq!(by_load, all, "a load refuses every one:\n{log}");
    for (name, _, words) in BROKEN {
        let line = checked
            .stdout
            .lines()
            .find(|l| l.contains(&format!("scripts/{name}")))
            .unwrap_or_default();
        assert!(line.contains(words), "{name}: {line:?} lacks {words:?}");
        let loaded = log
            .lines()
            .find(|l| l.contains(&format!("reload of scripts/{name} failed")))
            .unwrap_or_default();
        assert!(loaded.contains(words), "{name}: {loaded:?} lacks {words:?}");
    }
    assert!(BROKEN.len() >= 20);
}
