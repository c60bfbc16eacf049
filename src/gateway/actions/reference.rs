//! `reference`: the builtins and the gateway's actions, from the same metadata as
//! `tgscript docs` (the console's reference page reads it).

use super::ActionSpec;
use crate::gateway::Gateway;
use crate::request::CommandError;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

/// `reference`.
pub(super) const REFERENCE: ActionSpec = ActionSpec {
    name: "reference",
    admin: false,
    doc: "The builtins scripts can call and the gateway's actions, as `tgscript docs --format \
          json` and `tgscript docs --gateway --format json` print them.",
    fields: &[],
    success: "{builtins: [{name, signature, params, returns, doc}], gateway: {envelope, actions}}",
    returns: r#"{"builtins": [{"name": "reply", "signature": "reply(text: String)", "params": [{"name": "text", "type": "String"}], "returns": null, "doc": "Reply to the message being handled."}], "gateway": {"envelope": [], "actions": []}}"#,
    errors: &[],
    run: reference,
};

/// The reference, made once per process (it never changes while it runs).
fn reference(_: &Gateway, _: &str, _: &Map<String, Value>) -> Result<Value, CommandError> {
    static MADE: OnceLock<Value> = OnceLock::new();
    Ok(MADE
        .get_or_init(|| {
            let engine = crate::builtins::offline_engine(crate::engine::Limits::default(), ".");
            json!({
                "builtins": crate::docs::builtins(&engine),
                "gateway": crate::gateway::reference::to_value(),
            })
        })
        .clone())
}
