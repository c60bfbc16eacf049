//! `run_script`: a script run once, under the sandbox limits.

use super::{Access, ActionSpec, Run};
use crate::commands::FieldSpec;
use crate::gateway::{Client, Gateway};
use crate::request::CommandError;
use serde_json::{Map, Value};

/// `run_script`.
pub(super) const RUN_SCRIPT: ActionSpec = ActionSpec {
    name: "run_script",
    access: Access::Anyone,
    doc: "Run a Rhai script once with `vars` in scope, under the sandbox limits (the same \
          builtins as scenarios; no update is being handled). Only the admin's script reaches \
          files (the first bot's scenario folder, for `import` and `asset`); a tenant's acts on \
          the tenant's accounts only and keeps no state.",
    fields: &[
        FieldSpec::required(
            "script",
            "string",
            r#""print(`n is ${n}`); n * 2""#,
            "the script",
        ),
        FieldSpec::optional("vars", "map", "variables in the script's scope")
            .or("{}")
            .eg(r#"{"n": 21}"#),
    ],
    success: "the script's value and the lines it printed: {value, printed}",
    returns: r#"{"value": 42, "printed": ["n is 21"]}"#,
    errors: &[
        "script is required / script must be a string / vars must be an object",
        "the script's error (a syntax error, a thrown value, a limit such as max_operations)",
        "import/asset \"x\" refused: this script has no scenario folder (a client other than the admin)",
    ],
    run: Run::Here(run_script),
};

/// `run_script`: `script` with `vars` in scope, under the sandbox limits; returns the value
/// and the printed lines.
fn run_script(
    gw: &Gateway,
    client: &Client,
    action: &str,
    request: &Map<String, Value>,
) -> Result<Value, CommandError> {
    let fail = |e: String| CommandError::invalid(action, e);
    let script = match request.get("script") {
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(fail("script must be a string".into())),
        None => return Err(fail("script is required".into())),
    };
    let vars = match request.get("vars") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(vars)) => vars.clone(),
        Some(_) => return Err(fail("vars must be an object".into())),
    };
    let runner = match client {
        Client::Admin => &gw.runner,
        Client::Operator | Client::Tenant(_) => gw.sealed.as_ref().unwrap_or(&gw.runner),
    };
    if client.tenant().is_some() && matches!(**runner, crate::scenario::runner::Runner::Inline(_)) {
        return Err(fail(
            "a tenant's run_script needs [scripts] isolation = \"process\": inline scripts act as the operator".into(),
        ));
    }
    runner
        .eval(script, &vars, &gw.effects_for(client, action)?)
        .map(|evaluated| evaluated.to_json())
        .map_err(|e| fail(e.to_string()))
}
