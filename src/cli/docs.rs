//! `tgscript docs [NAME] [--gateway] [--format markdown|json]`: the builtins (or one of
//! them), or the gateway's protocol.

use crate::builtins::offline_engine;
use crate::config::Config;
use crate::docs;
use crate::engine::ScriptEngine;
use crate::gateway::reference;
use crate::sandbox::World;
use crate::sandbox::world::{Post, SANDBOX_CHAT_ID};
use crate::scenario::Handler;
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
}

/// Arguments of `docs`.
#[derive(Debug, clap::Args)]
pub struct DocsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: Format,
    /// The gateway's protocol (every action, its fields, events and an example) instead of
    /// the builtins.
    #[arg(long)]
    pub gateway: bool,
    /// Only this builtin (all its overloads), e.g. `tgscript docs tg_chat_permission`.
    pub name: Option<String>,
}

pub(super) fn docs(config: &Config, args: DocsArgs) -> anyhow::Result<u8> {
    if args.gateway {
        match args.format {
            Format::Markdown => print!("{}", reference::to_markdown()),
            Format::Json => println!("{}", reference::to_json()),
        }
        return Ok(0);
    }
    let engine = offline_engine(config.limits.clone(), ".");
    let builtins = match &args.name {
        None => docs::builtins(&engine),
        Some(name) => {
            let found = docs::lookup(&engine, name);
            if found.is_empty() {
                let all = docs::builtins(&engine);
                let hint = crate::check::closest_name(name, all.iter().map(|d| d.name.as_str()))
                    .map(|close| format!(": did you mean {close}?"))
                    .unwrap_or_else(|| " (tgscript docs lists them)".to_string());
                return Err(super::usage(format!("no builtin named {name}{hint}")));
            }
            found
        }
    };
    // One builtin alone, or the whole reference: builtins, handlers, stdlib modules.
    let whole = args.name.is_none();
    match args.format {
        Format::Markdown if whole => print!(
            "{}{}{}",
            docs::to_markdown(&builtins),
            handlers_markdown(),
            stdlib_markdown(&engine)
        ),
        Format::Markdown => print!("{}", docs::to_markdown(&builtins)),
        Format::Json => {
            let mut doc: serde_json::Value =
                serde_json::from_str(&docs::to_json(&builtins)).unwrap_or_default();
            if whole {
                doc["handlers"] = handlers_json();
                doc["stdlib"] = docs::stdlib_json(&engine);
            }
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
    }
    Ok(0)
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
        Handler::OnMessage => post(&mut world, "hello"),
        Handler::OnCommand => json!(["warn", ["3", "spam"], post(&mut world, "/warn 3 spam")]),
        Handler::OnCallbackQuery => {
            let markup = json!({"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]});
            let ask = json!({"chat_id": chat, "text": "Sure?", "reply_markup": markup});
            let _ = world.call("sendMessage", ask.as_object().unwrap_or(&Map::new()));
            let _ = world.press_button(chat, 1002, None, "yes");
            last(&mut world)["callback_query"].take()
        }
        Handler::OnChatMember => {
            world.add_user(1004, "Dave");
            let _ = world.user_joins(chat, 1004);
            last(&mut world)["chat_member"].take()
        }
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

fn handlers_markdown() -> String {
    let mut out = String::from(
        "\n# Handlers\n\nA scenario defines some of these; each update goes to one of them. \
         The examples are real updates from the sandbox.\n",
    );
    for handler in Handler::ALL {
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

fn handlers_json() -> Value {
    Handler::ALL
        .iter()
        .map(|h| {
            json!({"name": h.name(), "params": h.params(), "doc": h.doc(), "example": example(*h)})
        })
        .collect()
}

fn stdlib_markdown(engine: &ScriptEngine) -> String {
    let mut out =
        String::from("\n# Standard library modules\n\nBuilt in, importable from any folder.\n");
    for module in docs::stdlib_json(engine).as_array().into_iter().flatten() {
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
