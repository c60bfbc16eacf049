//! Which scenarios get an update, and which of their functions with what arguments: handlers
//! by update kind, button presses by the callback data a scenario owns (`CALLBACKS`), commands
//! only when addressed to this bot, a job only to the scenario that scheduled it, and an
//! album's parts together to the scenarios with `on_album` (one by one to the others).

use super::{Handler, Scenario};
use crate::telegram::album;
use crate::telegram::update::{self, UpdateKind};
use serde_json::{Value, json};

pub use crate::telegram::update::{ACCOUNT_UPDATE, JOB};

/// One function call an update makes.
#[derive(Debug)]
pub struct Call<'a> {
    /// Whose function.
    pub scenario: &'a Scenario,
    /// The function's name.
    pub function: String,
    /// Its arguments.
    pub args: Vec<Value>,
    /// The `expect_message` wait it answers, if it does.
    pub answers: Option<i64>,
}

/// Why an update cannot go where it must (a job whose scenario is gone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unroutable(pub String);

/// The calls `update` makes to `scenarios` (in their order), for a bot whose username is
/// `me` (`None`: unknown, every command is taken as ours); `waits` are the scenarios'
/// `expect_message` waits for its sender in its chat (a message goes to the waiting
/// function instead of the scenario's handlers).
pub fn calls<'a>(
    scenarios: &'a [Scenario],
    update: &Value,
    me: Option<&str>,
    waits: &[Value],
) -> Result<Vec<Call<'a>>, Unroutable> {
    if let Some(job) = update.get(JOB) {
        return job_call(scenarios, job).map(|call| vec![call]);
    }
    if let Some(messages) = album::messages(update) {
        return Ok(album_calls(scenarios, messages));
    }
    // A scenario with `on_album` gets an album's parts there, together, and not one by one.
    let part = album::part(update).is_some();
    let (kind, _, payload) = update::kind(update);
    let pressed = (kind == Some(UpdateKind::CallbackQuery))
        .then(|| payload["data"].as_str().unwrap_or_default());
    let owned = pressed.is_some_and(|data| scenarios.iter().any(|s| s.owns_callback(data)));
    let message = kind == Some(UpdateKind::Message);
    let payment = message && payload.get("successful_payment").is_some();
    let command = message.then(|| command(payload, me)).flatten();
    Ok(scenarios
        .iter()
        .filter(|scenario| match pressed {
            Some(data) if owned => scenario.owns_callback(data),
            Some(_) => scenario.declared.callbacks.is_empty(),
            None => true,
        })
        .filter(|scenario| !(part && scenario.has(Handler::OnAlbum)))
        .filter_map(|scenario| {
            // A payment goes to its own handler, even from a scenario waiting for a message.
            let paid = payment && scenario.has(Handler::OnSuccessfulPayment);
            let wait = (message && !paid)
                .then(|| waits.iter().find(|w| w["scenario"] == *scenario.namespace))
                .flatten();
            if let Some(wait) = wait {
                return Some(Call {
                    scenario,
                    function: wait["function"].as_str().unwrap_or_default().to_string(),
                    args: vec![payload.clone()],
                    answers: wait["id"].as_i64(),
                });
            }
            let (handler, args) = route(scenario, kind, payload, update, command.as_ref())?;
            Some(Call {
                scenario,
                function: handler.name().to_string(),
                args,
                answers: None,
            })
        })
        .collect())
}

/// The calls of a complete album: `on_album(messages)` of each scenario that has it.
fn album_calls<'a>(scenarios: &'a [Scenario], messages: &Value) -> Vec<Call<'a>> {
    scenarios
        .iter()
        .filter(|scenario| scenario.has(Handler::OnAlbum))
        .map(|scenario| Call {
            scenario,
            function: Handler::OnAlbum.name().to_string(),
            args: vec![messages.clone()],
            answers: None,
        })
        .collect()
}

/// The call of a due job: its function in the scenario that scheduled it, with its data.
fn job_call<'a>(scenarios: &'a [Scenario], job: &Value) -> Result<Call<'a>, Unroutable> {
    let owner = job["scenario"].as_str().unwrap_or_default();
    let function = match job["timed_out"].as_bool() {
        Some(true) => format!("{}_timeout", job["function"].as_str().unwrap_or_default()),
        _ => job["function"].as_str().unwrap_or_default().to_string(),
    };
    let scenario = scenarios
        .iter()
        .find(|s| &*s.namespace == owner)
        .ok_or_else(|| {
            Unroutable(format!(
                "job {} ({function}): no loaded scenario has the state name '{owner}' that scheduled it (renamed? `const STATE` keeps a name across renames)",
                job["id"]
            ))
        })?;
    Ok(Call {
        scenario,
        function,
        args: vec![job["data"].clone()],
        answers: None,
    })
}

/// Which handler of `scenario` gets an update of `kind` (`None`: newer than this build), and
/// its arguments: the kind's named handler with the payload (a message's command to
/// `on_command`, a payment to `on_successful_payment`, when the scenario has them), else
/// `on_update` with the whole update, for the kinds that go there; `command` is the
/// message's command when it is one for this bot.
fn route(
    scenario: &Scenario,
    kind: Option<UpdateKind>,
    payload: &Value,
    update: &Value,
    command: Option<&(String, Vec<String>)>,
) -> Option<(Handler, Vec<Value>)> {
    if let Some(event) = update.get(ACCOUNT_UPDATE) {
        let kind = event["update"]["@type"].as_str().unwrap_or_default();
        return scenario.takes_account_update(kind).then(|| {
            (
                Handler::OnAccountUpdate,
                vec![event["account_id"].clone(), event["update"].clone()],
            )
        });
    }
    let raw = || {
        scenario
            .has(Handler::OnUpdate)
            .then(|| (Handler::OnUpdate, vec![update.clone()]))
    };
    let Some(kind) = kind else {
        return raw();
    };
    if kind == UpdateKind::Message {
        if let Some((cmd, args)) = command
            && scenario.has(Handler::OnCommand)
        {
            return Some((
                Handler::OnCommand,
                vec![json!(cmd), json!(args), payload.clone()],
            ));
        }
        if payload.get("successful_payment").is_some() && scenario.has(Handler::OnSuccessfulPayment)
        {
            return Some((Handler::OnSuccessfulPayment, vec![payload.clone()]));
        }
    }
    let handler = Handler::of(kind);
    if scenario.has(handler) {
        return Some((handler, vec![payload.clone()]));
    }
    if kind.spec().else_on_update {
        return raw();
    }
    None
}

/// `"/warn@my_bot 3 \"for spam\""` → `("warn", ["3", "for spam"])`, when the command is for
/// the bot `me` (no `@`, or `@me` in any case; any bot when `me` is unknown). A command to
/// another bot is an ordinary message.
fn command(message: &Value, me: Option<&str>) -> Option<(String, Vec<String>)> {
    let text = message["text"].as_str()?;
    let text = text.trim_start();
    let first = text.split_whitespace().next()?;
    let rest = &text[first.len()..];
    let (name, to) = match first.strip_prefix('/')?.split_once('@') {
        Some((name, to)) => (name, Some(to)),
        None => (first.strip_prefix('/')?, None),
    };
    if name.is_empty() {
        return None;
    }
    if let (Some(to), Some(me)) = (to, me)
        && !to.eq_ignore_ascii_case(me.trim_start_matches('@'))
    {
        return None;
    }
    Some((name.to_string(), arguments(rest)))
}

/// Split command arguments at whitespace; text in double quotes (`"…"`, or the curly `“…”`
/// phones type) is one argument, quotes removed. An unclosed quote runs to the end.
pub fn arguments(text: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current: Option<String> = None;
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' | '“' | '”' | '„' => {
                quoted = !quoted;
                current.get_or_insert_with(String::new);
            }
            c if c.is_whitespace() && !quoted => {
                args.extend(current.take());
            }
            c => current.get_or_insert_with(String::new).push(c),
        }
    }
    args.extend(current);
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_honour_double_quotes() {
        assert_eq!(arguments(" 3  spam "), ["3", "spam"]);
        assert_eq!(arguments(r#"3 "two words" x"#), ["3", "two words", "x"]);
        assert_eq!(arguments("“curly quotes” too"), ["curly quotes", "too"]);
        assert_eq!(arguments(r#""" empty"#), ["", "empty"]);
        assert_eq!(
            arguments(r#"open "runs to the end"#),
            ["open", "runs to the end"]
        );
        assert!(arguments("").is_empty());
    }

    /// A scenario `name` with `handlers` and state name `name`.
    fn scenario(name: &str, handlers: Vec<Handler>) -> Scenario {
        let path = std::path::Path::new(name);
        Scenario::compiled_elsewhere(path, handlers, Vec::new(), 0, Default::default())
    }

    /// Each scenario's call for `update`: (file, function).
    fn routed(scenarios: &[Scenario], update: &Value, waits: &[Value]) -> Vec<(String, String)> {
        let calls = calls(scenarios, update, None, waits).unwrap_or_default();
        calls
            .into_iter()
            .map(|call| (call.scenario.name.clone(), call.function))
            .collect()
    }

    #[test]
    fn a_payment_goes_to_on_successful_payment_even_past_a_wait() {
        let message = Handler::of(UpdateKind::Message);
        let scenarios = [
            scenario("shop", vec![message, Handler::OnSuccessfulPayment]),
            scenario("chat", vec![message]),
        ];
        let paid = json!({"update_id": 1, "message": {"message_id": 5, "chat": {"id": 7},
            "from": {"id": 7}, "successful_payment": {"invoice_payload": "cart-9"}}});
        let waits = [
            json!({"id": 1, "scenario": "shop", "function": "got_address"}),
            json!({"id": 2, "scenario": "chat", "function": "got_name"}),
        ];
        assert_eq!(
            routed(&scenarios, &paid, &waits),
            [
                ("shop".to_string(), "on_successful_payment".to_string()),
                ("chat".to_string(), "got_name".to_string()),
            ]
        );
    }

    #[test]
    fn album_parts_go_one_by_one_to_scenarios_without_on_album_and_the_album_to_the_others() {
        let message = Handler::of(UpdateKind::Message);
        let scenarios = [
            scenario("gallery", vec![message, Handler::OnAlbum]),
            scenario("log", vec![message, Handler::OnUpdate]),
        ];
        let photo = |id: i64| {
            json!({"message_id": id, "media_group_id": "g7", "chat": {"id": 7}, "from": {"id": 7},
                "photo": [{"file_id": "f"}]})
        };
        let part = json!({"update_id": 1, "message": photo(5)});
        assert_eq!(
            routed(&scenarios, &part, &[]),
            [("log".to_string(), "on_message".to_string())]
        );
        let plain = json!({"update_id": 2, "message": {"message_id": 6, "chat": {"id": 7}}});
        assert_eq!(routed(&scenarios, &plain, &[]).len(), 2, "not a part");
        let album = album::update(-3, "g7", vec![photo(5), photo(6)]).unwrap_or_default();
        let calls = calls(&scenarios, &album, None, &[]).unwrap_or_default();
        assert_eq!(
            calls.len(),
            1,
            "only the scenario with on_album, not on_update"
        );
        assert_eq!(
            (calls[0].scenario.name.as_str(), calls[0].function.as_str()),
            ("gallery", "on_album")
        );
        assert_eq!(calls[0].args[0].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn without_its_named_handler_an_update_goes_to_on_update_as_before() {
        let scenarios = [
            scenario("named", vec![Handler::of(UpdateKind::EditedMessage)]),
            scenario("legacy", vec![Handler::OnUpdate]),
        ];
        let update = |key: &str| json!({"update_id": 1, key: {"chat": {"id": 7}}});
        let names = |key: &str| {
            routed(&scenarios, &update(key), &[])
                .into_iter()
                .map(|(file, function)| format!("{file} {function}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names("edited_message"),
            ["named on_edited_message", "legacy on_update"]
        );
        assert_eq!(names("pre_checkout_query"), ["legacy on_update"]);
        assert_eq!(names("guest_arrived"), ["legacy on_update"], "a newer kind");
        // Messages, presses and member changes never went to on_update.
        for own in ["message", "callback_query", "chat_member", "my_chat_member"] {
            assert!(names(own).is_empty(), "{own}");
        }
    }

    #[test]
    fn a_command_to_another_bot_is_not_ours() {
        let msg = |text: &str| json!({"text": text});
        let ours = |text: &str, me| command(&msg(text), me);
        assert_eq!(
            ours("/warn@My_Bot 3", Some("my_bot")),
            Some(("warn".into(), vec!["3".into()]))
        );
        assert_eq!(ours("/warn@other_bot 3", Some("my_bot")), None);
        assert!(
            ours("/warn@other_bot 3", None).is_some(),
            "username unknown"
        );
        assert_eq!(
            ours("/warn \"two words\"", Some("my_bot")),
            Some(("warn".into(), vec!["two words".into()]))
        );
        assert_eq!(ours("no command", Some("my_bot")), None);
        assert_eq!(ours("/ alone", Some("my_bot")), None);
    }
}
