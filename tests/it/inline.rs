//! Inline mode on the sandbox, through the real binary: a user's inline query reaches the
//! scenario, its answer (built with the result builders) is what the user picks from, and the
//! pick comes back as a message via the bot and a `chosen_inline_result`.

use crate::util::TestDir;

const INLINE: &str = r#"
fn on_inline_query(q) {
    answer_inline_query(q.id, [
        inline_article("hi", "Say hi", `Hi, ${q.query}!`),
        inline_photo("cat", "https://example.com/cat.jpg", #{caption: "a cat"}),
    ], #{cache_time: 0});
}

fn on_chosen_inline_result(r) {
    send_message(-1001234567890, `chosen ${r.result_id} for ${r.query}`);
}

fn on_message(msg) {
    if msg.via_bot != () {
        reply(`via the bot: ${msg.text}`);
    }
}
"#;

#[test]
fn an_inline_query_is_answered_and_the_pick_is_posted_via_the_bot() {
    let t = TestDir::new();
    t.write("scripts/inline.rhai", INLINE);
    let done = t.run_chat(concat!(
        "/choose 1\n",
        "/inline cats\n",
        "/choose 3\n",
        "/choose 1\n",
    ));
    let out = done.all_output();
    assert!(
        out.contains("the bot has answered no inline query of yours"),
        "{out}"
    );
    assert_eq!(out.matches("→ answerInlineQuery").count(), 1, "{out}");
    assert!(out.contains("there are 2 results: /choose 1 to 2"), "{out}");
    assert!(
        out.contains(r#"alice sends "Say hi" via @sandbox_bot"#),
        "{out}"
    );
    assert!(out.contains("bot: via the bot: Hi, cats!"), "{out}");
    assert!(out.contains("bot: chosen hi for cats"), "{out}");
}
