//! `tgscript docs [NAME] [--gateway] [--format markdown|json|openapi|asyncapi|schema]`: the
//! builtins (or one of them), or the gateway's protocol (also as OpenAPI, AsyncAPI and JSON
//! Schema documents).

use crate::builtins::offline_engine;
use crate::config::Config;
use crate::docs;
use crate::engine::ScriptEngine;
use crate::gateway::{reference, schema};
use crate::sandbox::World;
use crate::sandbox::world::{Post, SANDBOX_CHAT_ID};
use crate::scenario::Handler;
use crate::telegram::UpdateKind;
use serde_json::{Map, Value, json};

/// Output format of `docs`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Markdown, one section per builtin (or gateway action).
    Markdown,
    /// JSON: `{"builtins": [{name, signature, params, returns, doc}], "handlers": [...],
    /// "stdlib": [...]}`, or with `--gateway`
    /// `{"envelope": [...], "actions": [{name, kind, admin, fields, success, errors, example}]}`.
    Json,
    /// With `--gateway`: the OpenAPI 3.1 document of `POST /v1/command`.
    Openapi,
    /// With `--gateway`: the AsyncAPI 3.0 document of the WebSocket `/v1/ws`.
    Asyncapi,
    /// With `--gateway`: the JSON Schema of every request, result and event.
    Schema,
}

/// Arguments of `docs`.
#[derive(Debug, clap::Args)]
pub struct DocsArgs {
    /// Output format (`--format` is the older spelling).
    #[arg(
        short = 'o',
        long = "output",
        alias = "format",
        value_enum,
        default_value = "markdown",
        value_name = "FORMAT"
    )]
    pub format: Format,
    /// The gateway's protocol (every action, its fields, events and an example) instead of
    /// the builtins.
    #[arg(long, conflicts_with_all = ["config_keys", "cli"])]
    pub gateway: bool,
    /// The reference of the configuration keys (Markdown): each key, its default and what
    /// it does (docs/src/reference/configuration.md).
    #[arg(long, conflicts_with_all = ["cli", "name"])]
    pub config_keys: bool,
    /// The reference of the command line (Markdown): every command, argument and option
    /// (docs/src/reference/cli.md).
    #[arg(long, conflicts_with = "name")]
    pub cli: bool,
    /// Only this builtin (all its overloads), handler (`on_message`) or standard library
    /// name (`time`, `time::format`), e.g. `tgscript docs tg_chat_permission`.
    pub name: Option<String>,
}

pub(super) fn docs(config: &Config, args: DocsArgs) -> anyhow::Result<u8> {
    if args.config_keys {
        out!("{}", super::reference::configuration())?;
        return Ok(0);
    }
    if args.cli {
        out!("{}", super::reference::cli())?;
        return Ok(0);
    }
    if args.gateway {
        let document = match args.format {
            Format::Markdown => {
                out!("{}", reference::to_markdown())?;
                return Ok(0);
            }
            Format::Json => reference::to_value(),
            Format::Openapi => schema::openapi(),
            Format::Asyncapi => schema::asyncapi(),
            Format::Schema => schema::json_schema(),
        };
        outln!("{}", serde_json::to_string_pretty(&document)?)?;
        return Ok(0);
    }

    let engine = offline_engine(config.limits.clone(), ".");
    let name = args.name.as_deref();
    let builtins = match name {
        None => docs::builtins(&engine),
        Some(name) => docs::lookup(&engine, name),
    };
    let handlers: Vec<Handler> = Handler::all()
        .iter()
        .copied()
        .filter(|h| name.is_none_or(|name| h.name() == name))
        .collect();
    let stdlib = stdlib_matching(docs::stdlib_json(&engine), name);
    if let Some(name) = name
        && builtins.is_empty()
        && handlers.is_empty()
        && stdlib.is_empty()
    {
        return Err(super::usage(unknown(&engine, name)));
    }
    match args.format {
        Format::Openapi | Format::Asyncapi | Format::Schema => {
            return Err(super::usage(
                "--format openapi, asyncapi and schema describe the gateway: add --gateway",
            ));
        }
        Format::Markdown => {
            let mut text = String::new();
            if !builtins.is_empty() {
                text.push_str(&docs::to_markdown(&builtins));
            }
            if !handlers.is_empty() {
                text.push_str(&handlers_markdown(&handlers));
            }
            if !stdlib.is_empty() {
                text.push_str(&stdlib_markdown(&stdlib));
            }
            out!("{text}")?;
        }
        Format::Json => {
            let mut doc: Value =
                serde_json::from_str(&docs::to_json(&builtins)).unwrap_or_default();
            doc["handlers"] = handlers_json(&handlers);
            doc["stdlib"] = Value::Array(stdlib);
            outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default())?;
        }
    }
    Ok(0)
}

/// Why `name` names nothing documented, with the closest name that is.
fn unknown(engine: &ScriptEngine, name: &str) -> String {
    let builtins = docs::builtins(engine);
    let stdlib = docs::stdlib_json(engine);
    let mut names: Vec<String> = builtins.iter().map(|d| d.name.clone()).collect();
    names.extend(Handler::all().iter().map(|h| h.name().to_string()));
    for module in stdlib.as_array().into_iter().flatten() {
        let prefix = module["module"].as_str().unwrap_or_default();
        names.push(prefix.to_string());
        for f in module["functions"].as_array().into_iter().flatten() {
            names.push(format!(
                "{prefix}::{}",
                f["name"].as_str().unwrap_or_default()
            ));
        }
    }
    let hint = crate::check::closest_name(name, names.iter().map(String::as_str))
        .map(|close| format!(": did you mean {close}?"))
        .unwrap_or_else(|| {
            " (nor a handler or standard library name; tgscript docs lists them)".to_string()
        });
    format!("no builtin named {name}{hint}")
}

/// The stdlib modules of `all` (as [`docs::stdlib_json`] gives them) that `name` names: a
/// module (`time`) whole, or a function or constant (`time::format`, `format`) with its
/// module; every module without a name.
fn stdlib_matching(all: Value, name: Option<&str>) -> Vec<Value> {
    let modules = match all {
        Value::Array(modules) => modules,
        _ => Vec::new(),
    };
    let Some(name) = name else {
        return modules;
    };
    modules
        .into_iter()
        .filter_map(|mut module| {
            let prefix = module["module"].as_str().unwrap_or_default().to_string();
            if name == prefix {
                return Some(module);
            }
            let wanted = name
                .strip_prefix(&format!("{prefix}::"))
                .unwrap_or(name)
                .to_string();
            let mut functions: Vec<Value> = match module["functions"].take() {
                Value::Array(functions) => functions,
                _ => Vec::new(),
            };
            functions.retain(|f| f["name"] == wanted.as_str());
            let mut constants = match module["constants"].take() {
                Value::Object(constants) => constants,
                _ => Map::new(),
            };
            constants.retain(|constant, _| *constant == wanted);
            if functions.is_empty() && constants.is_empty() {
                return None;
            }
            module["functions"] = Value::Array(functions);
            module["constants"] = Value::Object(constants);
            Some(module)
        })
        .collect()
}

/// The date every example update shows (2026-11-30 00:53:20 UTC), so the reference printed today is
/// the one printed tomorrow and can be kept in the repository.
const EXAMPLE_DATE: i64 = 1_796_000_000;

/// A real example of what `handler` is given, made by the sandbox world (`null` where the
/// sandbox makes none), its dates set to [`EXAMPLE_DATE`].
fn example(handler: Handler) -> Value {
    let mut example = made_by_the_sandbox(handler);
    set_dates(&mut example);
    example
}

/// Every date of `value` (`date`, `edit_date`, …), however deep, set to [`EXAMPLE_DATE`].
fn set_dates(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                if (key == "date" || key.ends_with("_date")) && field.is_i64() {
                    *field = EXAMPLE_DATE.into();
                } else {
                    set_dates(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(set_dates),
        _ => {}
    }
}

/// What the sandbox world gives `handler` after a typical act.
fn made_by_the_sandbox(handler: Handler) -> Value {
    let chat = SANDBOX_CHAT_ID;
    let mut world = World::new();
    let last = |world: &mut World| world.updates_from(0, 100).pop().unwrap_or_default();
    let post = |world: &mut World, text: &str| {
        let post = Post {
            text,
            ..Post::default()
        };
        world.post(chat, 1001, &post).unwrap_or_default()
    };
    match handler {
        Handler::OnLoad | Handler::OnAccountUpdate => Value::Null,
        Handler::Of(UpdateKind::Message) => post(&mut world, "hello"),
        Handler::OnCommand => json!(["warn", ["3", "spam"], post(&mut world, "/warn 3 spam")]),
        Handler::OnAlbum => {
            let parts = world.post_album(chat, 1001, 3, "Our new flat", None);
            Value::Array(parts.unwrap_or_default())
        }
        Handler::OnSuccessfulPayment => {
            let mut paid = post(&mut world, "");
            if let Some(fields) = paid.as_object_mut() {
                fields.remove("text");
                fields.insert("successful_payment".into(), json!({
                    "currency": "XTR", "total_amount": 50, "invoice_payload": "order-42",
                    "telegram_payment_charge_id": "stxK3c9mQ0aZ", "provider_payment_charge_id": "",
                }));
            }
            paid
        }
        Handler::Of(UpdateKind::EditedMessage) => {
            post(&mut world, "helo");
            let _ = world.edit(chat, 1001, 1, "hello");
            last(&mut world)["edited_message"].take()
        }
        Handler::Of(UpdateKind::CallbackQuery) => {
            let markup = json!({"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]});
            let ask = json!({"chat_id": chat, "text": "Sure?", "reply_markup": markup});
            let _ = world.call("sendMessage", ask.as_object().unwrap_or(&Map::new()));
            let _ = world.press_button(chat, 1002, None, "yes");
            last(&mut world)["callback_query"].take()
        }
        Handler::Of(UpdateKind::ChatMember) => {
            world.add_user(1004, "Dave");
            let _ = world.user_joins(chat, 1004);
            last(&mut world)["chat_member"].take()
        }
        Handler::Of(UpdateKind::ChatJoinRequest) => {
            world.add_user(1004, "Dave");
            let _ = world.request_join(chat, 1004);
            last(&mut world)["chat_join_request"].take()
        }
        // Kinds the sandbox does not make: the payload the kind's table entry shows.
        Handler::Of(kind) => kind
            .spec()
            .example
            .and_then(|example| serde_json::from_str(example).ok())
            .unwrap_or_default(),
        Handler::OnUpdate => {
            post(&mut world, "helo");
            let _ = world.edit(chat, 1001, 1, "hello");
            last(&mut world)
        }
    }
}

fn signature(handler: Handler) -> String {
    format!("fn {}({})", handler.name(), handler.params().join(", "))
}

fn handlers_markdown(handlers: &[Handler]) -> String {
    let mut out = String::from(
        "\n# Handlers\n\nA scenario defines some of these; each update goes to one of them \
         (`on_update` gets an update whose kind's handler the scenario lacks). The examples \
         are real updates from the sandbox where it makes them, else payloads shaped as the \
         Bot API documents them.\n",
    );
    for &handler in handlers {
        out.push_str(&format!(
            "\n## `{}`\n\n{}.\n",
            signature(handler),
            handler.doc()
        ));
        let example = example(handler);
        if !example.is_null() {
            let shown = serde_json::to_string_pretty(&example).unwrap_or_default();
            out.push_str(&format!("\n```json\n{shown}\n```\n"));
        }
    }
    out
}

fn handlers_json(handlers: &[Handler]) -> Value {
    handlers
        .iter()
        .map(|h| {
            json!({"name": h.name(), "params": h.params(), "doc": h.doc(), "example": example(*h)})
        })
        .collect()
}

fn stdlib_markdown(modules: &[Value]) -> String {
    let mut out =
        String::from("\n# Standard library modules\n\nBuilt in, importable from any folder.\n");
    for module in modules {
        out.push_str(&format!(
            "\n## `{}`\n\n",
            module["import"].as_str().unwrap_or_default()
        ));
        let name = module["module"].as_str().unwrap_or_default();
        for (constant, value) in module["constants"].as_object().into_iter().flatten() {
            out.push_str(&format!("- `{name}::{constant}` = `{value}`\n"));
        }
        for f in module["functions"].as_array().into_iter().flatten() {
            let params: Vec<&str> = f["params"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let doc = f["doc"].as_str().unwrap_or_default().replace('\n', " ");
            out.push_str(&format!(
                "- `{name}::{}({})`: {doc}\n",
                f["name"].as_str().unwrap_or_default(),
                params.join(", ")
            ));
        }
    }
    out
}
