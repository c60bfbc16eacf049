//! Payments through the real binary: a sandbox user pays an invoice (the pre-checkout query
//! answered, the payment handled); against the local Bot API server a pre-checkout query runs
//! ahead of a long queue (held back in the inbox, in order per chat, nothing lost); and each
//! payment is handled once across `kill -9`s, also when Telegram brings it in a second update.

use crate::crash::{Rng, USER, chat_id, in_doubt, sent, server};
use crate::inbox::{bot_env, refs};
use crate::util::TestDir;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tgscript::sandbox::Recorded;
use tgscript::sandbox::world::ChatKind;

const WAIT: Duration = Duration::from_secs(180);

/// Sells "Pro" for 100 Stars: an invoice on "buy", a yes to every pre-checkout query (a no
/// for the payload "sold-out"), a thank-you for each payment.
const SHOP: &str = r#"
fn on_message(msg) {
    if msg.text == "buy" {
        send_invoice("Pro", "Everything for 30 days", "pro-30d", 100);
    } else if msg.text == "buy the last one" {
        send_invoice("Last one", "Gone already", "sold-out", 5);
    }
}

fn on_pre_checkout_query(query) {
    if query.invoice_payload == "sold-out" {
        answer_pre_checkout_query(query.id, false, "Sold out, sorry");
    } else {
        answer_pre_checkout_query(query.id, true);
    }
}

fn on_successful_payment(msg) {
    let p = msg.successful_payment;
    reply(`paid ${p.total_amount} ${p.currency} for ${p.invoice_payload}`);
}
"#;

#[test]
fn a_sandbox_user_pays_an_invoice_and_the_payment_is_handled_once() {
    let t = TestDir::new();
    t.write("scripts/shop.rhai", SHOP);
    let done = t.run_chat(concat!(
        "buy\n",
        "/pay\n",
        "buy the last one\n",
        "/as bob /pay\n",
        "/pay #1\n",
    ));
    let out = done.all_output();
    let lines = |what: &str| out.lines().filter(|l| l.contains(what)).count();
    assert_eq!(lines("→ sendInvoice"), 2, "{out}");
    assert!(out.contains("alice pays invoice #"), "{out}");
    assert_eq!(lines("→ answerPreCheckoutQuery"), 2, "{out}");
    assert_eq!(
        lines("bot: paid 100 XTR for pro-30d"),
        1,
        "one payment, handled once; the refused one never paid:\n{out}"
    );
    assert!(!out.contains("for sold-out"), "{out}");
    assert!(
        out.contains("message #1 is not an invoice of this chat"),
        "{out}"
    );
}

/// Sells a mug shipped by post: a flexible invoice, its shipping options, the payment.
const MUGS: &str = r#"
fn on_message(msg) {
    if msg.text == "mug" {
        send_invoice("Mug", "A mug", "mug-1", [#{label: "Mug", amount: 1500}],
            #{currency: "EUR", provider_token: "sandbox-provider", is_flexible: true});
    }
}

fn on_shipping_query(query) {
    if query.shipping_address.country_code == "DE" {
        answer_shipping_query(query.id, [#{id: "post", title: "Post", prices: [#{label: "Post", amount: 500}]}]);
    } else {
        answer_shipping_query(query.id, false, "We ship to Germany only");
    }
}

fn on_pre_checkout_query(query) {
    answer_pre_checkout_query(query.id, true);
}

fn on_successful_payment(msg) {
    let p = msg.successful_payment;
    reply(`paid ${p.total_amount} ${p.currency}, shipped by ${p.shipping_option_id}`);
}
"#;

#[test]
fn a_sandbox_user_pays_a_flexible_invoice_after_the_shipping_query() {
    let t = TestDir::new();
    t.write("scripts/mugs.rhai", MUGS);
    let done = t.run_chat("mug\n/pay\n");
    let out = done.all_output();
    let shipping = out.find("→ answerShippingQuery").unwrap_or(usize::MAX);
    let checkout = out.find("→ answerPreCheckoutQuery").unwrap_or(usize::MAX);
    assert!(shipping < checkout && checkout < usize::MAX, "{out}");
    assert!(
        out.contains("bot: paid 2000 EUR, shipped by post"),
        "the post's 500 added to the mug's 1500:\n{out}"
    );
}

/// A handler that takes a while for each of many messages.
const SLOW_ECHO: &str = r#"
fn on_message(msg) {
    sleep(0.01);
    reply(msg.text);
}

fn on_successful_payment(msg) {
    sleep(0.01);
    send_message(msg.chat.id, `paid ${msg.successful_payment.telegram_payment_charge_id}`);
}

fn on_pre_checkout_query(query) {
    answer_pre_checkout_query(query.id, true);
}
"#;

#[test]
fn a_pre_checkout_query_runs_ahead_of_two_thousand_waiting_updates_and_none_is_lost() {
    const CHATS: usize = 100;
    const MESSAGES: usize = 2000;
    let t = TestDir::new();
    t.write("scripts/shop.rhai", SLOW_ECHO);
    let server = server(CHATS);
    let mut rng = Rng::new();
    let mut per_chat: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    server.world(|w| {
        for n in 0..MESSAGES {
            let chat = chat_id(rng.below(CHATS as u64) as usize);
            let text = format!("m{n}");
            w.user_message(chat, USER, &text, None);
            per_chat.entry(chat).or_default().push(text);
        }
        w.add_chat(USER, ChatKind::Private, "Alice");
        let invoice = json!({"chat_id": USER, "title": "Pro", "description": "All",
            "payload": "pro", "currency": "XTR", "prices": [{"label": "Pro", "amount": 100}]});
        let Value::Object(invoice) = invoice else {
            unreachable!()
        };
        w.call("sendInvoice", &invoice).expect("an invoice");
        w.pay(USER, USER, None).expect("a payment");
    });
    // Four workers: the 2,000 messages take about 5 s of handling, longer than fetching them.
    let mut vars = bot_env(&server).to_vec();
    vars.push(("TGSCRIPT_SCRIPTS_WORKERS", "4".to_string()));
    let bot = t.spawn(&["run", "scripts"], &refs(&vars));
    let answered = server.wait_for(WAIT, |calls| {
        calls
            .iter()
            .any(|c| c.method.eq_ignore_ascii_case("answerPreCheckoutQuery"))
    });
    let calls = answered.unwrap_or_else(|calls| {
        panic!(
            "no answer to the pre-checkout query ({} calls)\n{}",
            calls.len(),
            bot.stderr_so_far()
        )
    });
    let before = sent(&calls).len();
    assert!(
        before < 1000,
        "the pre-checkout query waited for {before} messages to be handled first"
    );
    let all = |calls: &[Recorded]| sent(calls).len() == MESSAGES + 1;
    let finished = server.wait_for(WAIT, all);
    let last = bot.interrupt();
    let calls = finished.unwrap_or_else(|calls| {
        panic!(
            "{} of {} messages answered\n{}",
            sent(&calls).len(),
            MESSAGES + 1,
            last.stderr
        )
    });
    assert_eq!(last.code, Some(0), "{}", last.stderr);
    assert!(
        last.stderr
            .contains("updates wait for their handlers; the next ones wait in the inbox"),
        "{}",
        last.stderr
    );
    let mut answered: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (chat, text) in sent(&calls) {
        answered.entry(chat).or_default().push(text);
    }
    let paid = answered.remove(&USER).unwrap_or_default();
    assert_eq!(paid.len(), 1, "{paid:?}");
    assert!(paid[0].starts_with("paid sandbox_charge_"), "{paid:?}");
    assert_eq!(
        answered, per_chat,
        "every message answered once, in order per chat"
    );
    eprintln!(
        "payments: the pre-checkout query was answered after {before} of {MESSAGES} waiting messages"
    );
}

/// A successful payment `charge` of 100 Stars from `user` in its private chat.
fn payment(user: i64, charge: &str) -> Value {
    json!({"message": {
        "message_id": 1, "date": 1767225600,
        "chat": {"id": user, "type": "private", "first_name": "Payer"},
        "from": {"id": user, "is_bot": false, "first_name": "Payer"},
        "successful_payment": {
            "currency": "XTR", "total_amount": 100, "invoice_payload": "pro",
            "telegram_payment_charge_id": charge, "provider_payment_charge_id": "",
        },
    }})
}

#[test]
fn each_payment_is_handled_once_across_three_kills_and_a_second_delivery() {
    // Three payers' chats at about 100 payments a second each: the kills land midway.
    const PAYERS: i64 = 3;
    const PAYMENTS: usize = 600;
    let t = TestDir::new();
    t.write("scripts/shop.rhai", SLOW_ECHO);
    let server = server(0);
    let mut rng = Rng::new();
    let mut first_update: BTreeMap<String, i64> = BTreeMap::new();
    server.world(|w| {
        for user in 5000..5000 + PAYERS {
            w.add_user(user, "Payer");
            w.add_chat(user, ChatKind::Private, "Payer");
        }
        for n in 0..PAYMENTS {
            let charge = format!("ch{n}");
            let user = 5000 + n as i64 % PAYERS;
            let id = w.push_update(payment(user, &charge));
            first_update.insert(charge, id);
            // Now and then the same payment comes again, in a later update.
            if rng.below(5) == 0 {
                let again = format!("ch{}", rng.below(n as u64 + 1));
                w.push_update(payment(5000 + rng.below(PAYERS as u64) as i64, &again));
            }
        }
    });
    let vars = bot_env(&server).to_vec();
    let mut logs = String::new();
    for round in 0..3 {
        let bot = t.spawn(&["run", "scripts"], &refs(&vars));
        let target = (sent(&server.calls()).len() + 20 + rng.below(60) as usize).min(PAYMENTS);
        let reached = server.wait_for(WAIT, |calls| sent(calls).len() >= target);
        assert!(
            reached.is_ok(),
            "round {round}: never reached {target} payments\n{}",
            bot.stderr_so_far()
        );
        std::thread::sleep(Duration::from_micros(rng.below(20_000)));
        logs.push_str(&bot.kill9().stderr);
    }
    let bot = t.spawn(&["run", "scripts"], &refs(&vars));
    let every = |calls: &[Recorded]| {
        let thanked: BTreeSet<String> = sent(calls).into_iter().map(|(_, text)| text).collect();
        thanked.len() == PAYMENTS
    };
    let finished = server.wait_for(WAIT, every);
    let last = bot.interrupt();
    logs.push_str(&last.stderr);
    assert!(finished.is_ok(), "not every payment was handled\n{logs}");
    assert!(
        logs.contains("left unfinished or queued for a retry; handling them first"),
        "a restart found the payments a kill interrupted:\n{logs}"
    );
    let doubt: BTreeSet<i64> = in_doubt(&logs).into_iter().map(|(id, _)| id).collect();
    let mut thanks: BTreeMap<String, usize> = BTreeMap::new();
    for (_, text) in sent(&server.calls()) {
        *thanks.entry(text).or_default() += 1;
    }
    for (charge, update) in &first_update {
        let count = thanks.get(&format!("paid {charge}")).copied().unwrap_or(0);
        let allowed = if doubt.contains(update) { 2 } else { 1 };
        assert!(
            (1..=allowed).contains(&count),
            "payment {charge} (update {update}) thanked {count} times"
        );
    }
    assert!(
        logs.contains("was handled there; not again"),
        "a second delivery was seen and left alone:\n{logs}"
    );
}
