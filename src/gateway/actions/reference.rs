//! `reference`: the builtins, from the same metadata as `tgscript docs` (the console's
//! reference page reads it; the gateway's own reference is `tgscript docs --gateway`).

use super::{Access, ActionSpec, Run};
use crate::gateway::{Client, Gateway};
use crate::request::CommandError;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

/// `reference`.
pub(super) const REFERENCE: ActionSpec = ActionSpec {
    name: "reference",
    access: Access::Anyone,
    doc: "The builtins scripts can call, as `tgscript docs --format json` prints them.",
    fields: &[],
    success: "{builtins: [{name, signature, params, returns, doc}]}",
    returns: r#"{"builtins": [{"name": "reply", "signature": "reply(text: String)", "params": [{"name": "text", "type": "String"}], "returns": null, "doc": "Reply to the message being handled."}]}"#,
    errors: &[],
    run: Run::Here(reference),
};

/// The reference, made once per process (it never changes while it runs).
fn reference(
    _: &Gateway,
    _: &Client,
    _: &str,
    _: &Map<String, Value>,
) -> Result<Value, CommandError> {
    static MADE: OnceLock<Value> = OnceLock::new();
    Ok(MADE
        .get_or_init(|| {
            let engine = crate::builtins::offline_engine(crate::engine::Limits::default(), ".");
            json!({"builtins": crate::docs::builtins(&engine)})
        })
        .clone())
}
