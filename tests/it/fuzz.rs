//! Property tests: whatever a client sends, the gateway answers with an event and the command
//! layer with a result or an error — never a panic. Bounded: a fixed number of cases per run.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use tgscript::accounts::Accounts;
use tgscript::builtins::CallContext;
use tgscript::engine::Limits;
use tgscript::gateway::{Gateway, Settings};
use tgscript::host::Host;
use tgscript::store::Store;

/// A gateway over two sandbox accounts and no bot, as `serve` builds it (scripts inline:
/// the frames and the command layer are what is fuzzed here).
fn gateway(runtime: &tokio::runtime::Runtime) -> (Gateway, Arc<Host>) {
    let host = Arc::new(Host::new(
        None,
        Accounts::sandbox_only(),
        Arc::new(Store::in_memory()),
        runtime.handle().clone(),
    ));
    let engine = Arc::new(tgscript::builtins::engine(
        Limits::default(),
        ".",
        CallContext::direct(host.clone()),
    ));
    let settings = Settings::new("127.0.0.1:0", None, Vec::new()).expect("settings");
    let runner = Arc::new(tgscript::scenario::runner::Runner::Inline(engine));
    (Gateway::new(host.clone(), runner, &settings), host)
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        "[a-zA-Z0-9@_ -]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_@]{1,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An action name: every command and chat action, and some that are not.
fn action() -> impl Strategy<Value = String> {
    let known: Vec<String> = tgscript::commands::account::COMMANDS
        .iter()
        .map(|c| c.name.to_string())
        .chain(
            tgscript::commands::chat::ACTIONS
                .iter()
                .map(|a| a.name.to_string()),
        )
        .chain(["tdlib", "run_script", "nope", ""].map(String::from))
        .collect();
    prop::sample::select(known)
}

/// A request: an action, a userbot_id of any shape, and fields named as the commands name
/// theirs, with values of any type.
fn request() -> impl Strategy<Value = Map<String, Value>> {
    let field = prop::sample::select(vec![
        "session_id",
        "user_id",
        "chat_id",
        "settings",
        "setting",
        "mode",
        "block_list",
        "offset",
        "limit",
        "text",
        "permission",
        "media_permissions",
        "permissions",
        "rights",
        "until_date",
        "message_id",
        "method",
        "params",
        "allow_user_ids",
        "rules",
        "can_accept_calls",
        "request_id",
        "script",
        "vars",
    ]);
    (
        action(),
        prop_oneof![Just(json!(1)), Just(json!("1")), json_value()],
        prop::collection::vec((field, json_value()), 0..6),
    )
        .prop_map(|(action, userbot_id, fields)| {
            let mut map: Map<String, Value> = fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            map.insert("action".into(), action.into());
            map.insert("userbot_id".into(), userbot_id);
            map
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_frame_gets_an_event(frame in prop_oneof![
        "\\PC{0,64}",
        json_value().prop_map(|v| v.to_string()),
        request().prop_map(|r| Value::Object(r).to_string()),
    ]) {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let (gateway, _) = gateway(&runtime);
        let text = tgscript::gateway::handle(&gateway, &frame);
        let event: Value = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
        prop_assert_eq!(&event["type"], &json!("chat_update"), "{}", event);
        prop_assert!(event["event"].is_string(), "{}", event);
    }

    #[test]
    fn any_request_is_answered_or_refused_with_words(request in request()) {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let (_, host) = gateway(&runtime);
        if let Err(e) = tgscript::commands::execute_request(&*host, &request, None) {
            prop_assert!(!e.error.is_empty(), "an error without words for {:?}", request);
        }
    }
}
