//! Inline result builders: the `InlineQueryResult` maps `answer_inline_query` takes, built from
//! a few arguments and checked when they are built (an id over 64 bytes is an error at the
//! call, not a 400 later). Options are merged into the result as Bot API fields.

use super::{RhaiResult, builtin, to_dynamic};
use crate::commands::chat::result_problem;
use rhai::{EvalAltResult, Map, Module, Position};
use serde_json::{Value, json};

/// The result, checked, with `options` (Bot API fields) merged in; `parse_mode` goes to the
/// message it sends, where Telegram reads it.
fn result(name: &str, mut result: Value, options: Map) -> RhaiResult {
    let options = serde_json::to_value(rhai::Dynamic::from_map(options)).unwrap_or(Value::Null);
    if let (Some(fields), Value::Object(options)) = (result.as_object_mut(), options) {
        for (key, value) in options {
            match (key.as_str(), fields.get_mut("input_message_content")) {
                ("parse_mode", Some(content)) => content["parse_mode"] = value,
                _ => {
                    fields.insert(key, value);
                }
            }
        }
    }
    match result_problem(&result) {
        None => to_dynamic(result),
        Some(problem) => Err(EvalAltResult::ErrorRuntime(
            format!("{name}: {problem}").into(),
            Position::NONE,
        )
        .into()),
    }
}

/// A photo's or GIF's field: `<kind>_url` for a URL, `<kind>_file_id` for a file on Telegram.
fn media(kind: &str, source: &str) -> (String, Value) {
    match source.starts_with("https://") || source.starts_with("http://") {
        true => (format!("{kind}_url"), source.into()),
        false => (format!("{kind}_file_id"), source.into()),
    }
}

/// A photo or GIF result: by URL (its own thumbnail) or by file_id (a cached one).
fn picture(name: &str, kind: &str, id: &str, source: &str, options: Map) -> RhaiResult {
    let (key, value) = media(kind, source);
    let mut built = json!({"type": kind, "id": id});
    if key.ends_with("_url") {
        built["thumbnail_url"] = value.clone();
    }
    built[key] = value;
    result(name, built, options)
}

pub(super) fn register(module: &mut Module) {
    const ARTICLE: &str = r#"
An inline result that sends a text message (`InlineQueryResultArticle`): `id` (1–64 bytes,
unique in the answer), the `title` shown in the list, the `text` sent when it is chosen.
Options are Bot API fields (`description`, `thumbnail_url`, `reply_markup`, `parse_mode`, …).

# Example
```rhai
let hello = inline_article("hello", "Say hello", "Hello!", #{description: "a greeting"});
hello.input_message_content.message_text    // "Hello!"
```
"#;
    let article = |id: &str, title: &str, text: &str, options: Map| {
        let built = json!({"type": "article", "id": id, "title": title,
            "input_message_content": {"message_text": text}});
        result("inline_article", built, options)
    };
    builtin(
        "inline_article",
        &["id: String", "title: String", "text: String", "Map"],
        ARTICLE,
    )
    .with_volatility(false)
    .set_into_module(module, move |id: &str, title: &str, text: &str| {
        article(id, title, text, Map::new())
    });
    builtin(
        "inline_article",
        &[
            "id: String",
            "title: String",
            "text: String",
            "options: Map",
            "Map",
        ],
        ARTICLE,
    )
    .with_volatility(false)
    .set_into_module(module, article);

    for (name, kind, what) in [
        (
            "inline_photo",
            "photo",
            "a photo (`InlineQueryResultPhoto`)",
        ),
        (
            "inline_gif",
            "gif",
            "a GIF animation (`InlineQueryResultGif`)",
        ),
    ] {
        let doc = format!(
            r#"
An inline result that sends {what}: `id` (1–64 bytes, unique in the answer) and a URL (its
own thumbnail unless options give `thumbnail_url`) or a `file_id` of one on Telegram. Options
are Bot API fields (`caption`, `title`, `reply_markup`, …).

# Example
```rhai
let r = {name}("cat", "https://example.com/cat.{ext}", #{{caption: "A cat"}});
r.type    // "{kind}"
```
"#,
            ext = if kind == "gif" { "gif" } else { "jpg" }
        );
        builtin(name, &["id: String", "source: String", "Map"], &doc)
            .with_volatility(false)
            .set_into_module(module, move |id: &str, source: &str| {
                picture(name, kind, id, source, Map::new())
            });
        builtin(
            name,
            &["id: String", "source: String", "options: Map", "Map"],
            &doc,
        )
        .with_volatility(false)
        .set_into_module(module, move |id: &str, source: &str, options: Map| {
            picture(name, kind, id, source, options)
        });
    }
}
