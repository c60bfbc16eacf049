//! Keyboard builders: the `reply_markup` maps Telegram takes, built from buttons instead of
//! hand-written JSON, checked when they are built (a `callback_data` over Telegram's 64 bytes
//! is an error at the call, not a 400 later).

use super::{RhaiResult, builtin};
use crate::commands::chat::MAX_CALLBACK_DATA;
use rhai::{Array, Dynamic, EvalAltResult, Map, Module, Position};

fn fail(why: String) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(why.into(), Position::NONE).into()
}

pub(super) fn register(module: &mut Module) {
    builtin(
        "button",
        &["text: String", "data: String", "Map"],
        r#"
An inline button that sends `data` back to the bot when pressed (`on_callback_query` gets it
as `query.data`). `data` is 1–64 bytes, Telegram's limit; longer is an error here.

# Example
```rhai
reply("Are you human?", #{reply_markup: buttons([button("Yes", "human:yes")])});
```
"#,
    )
    .with_volatility(false)
    .set_into_module(module, |text: &str, data: &str| -> RhaiResult {
        let text = label(text).map_err(fail)?;
        if data.is_empty() || data.len() > MAX_CALLBACK_DATA {
            return Err(fail(format!(
                "button {text:?}: data must be 1–{MAX_CALLBACK_DATA} bytes (Telegram's limit), got {} bytes",
                data.len()
            )));
        }
        Ok(pair(text, "callback_data", data))
    });

    builtin(
        "url_button",
        &["text: String", "url: String", "Map"],
        r#"
An inline button that opens `url` (`https://`, `http://` or `tg://`).

# Example
```rhai
reply("Read the rules first", #{reply_markup: buttons([url_button("Rules", "https://example.com/rules")])});
```
"#,
    )
    .with_volatility(false)
    .set_into_module(module, |text: &str, url: &str| -> RhaiResult {
        let text = label(text).map_err(fail)?;
        if !["https://", "http://", "tg://"]
            .iter()
            .any(|scheme| url.starts_with(scheme) && url.len() > scheme.len())
        {
            return Err(fail(format!(
                "url_button {text:?}: url must start with https://, http:// or tg://, got {url:?}"
            )));
        }
        Ok(pair(text, "url", url))
    });

    builtin(
        "buttons",
        &["rows: Array", "Map"],
        r#"
An inline keyboard (`#{inline_keyboard: …}`) from rows of `button`/`url_button`; a flat array
of buttons is one row.

# Example
```rhai
let markup = buttons([
    [button("👍", "vote:up"), button("👎", "vote:down")],
    [url_button("Rules", "https://example.com/rules")],
]);
reply("Vote:", #{reply_markup: markup});
```
"#,
    )
    .with_volatility(false)
    .set_into_module(module, |rows: Array| -> RhaiResult {
        let rows = rows_of(rows, "buttons", |button| match button.try_cast::<Map>() {
            Some(map) if map.contains_key("text") => Ok(map.into()),
            _ => Err("each button must be made by button() or url_button()".into()),
        })?;
        let mut markup = Map::new();
        markup.insert("inline_keyboard".into(), rows.into());
        Ok(markup.into())
    });

    let keyboard_doc = r#"
A reply keyboard: buttons under the message field that send their text. `rows` are arrays of
strings (a flat array is one row); it is sized to fit (`resize_keyboard`). Options are the
Bot API's: `one_time_keyboard`, `input_field_placeholder`, `is_persistent`, `selective`.

# Example
```rhai
reply("Pick a language", #{reply_markup: keyboard([["English", "Русский"]], #{one_time_keyboard: true})});
```
"#;
    builtin("keyboard", &["rows: Array", "Map"], keyboard_doc)
        .with_volatility(false)
        .set_into_module(module, |rows: Array| reply_keyboard(rows, Map::new()));
    builtin(
        "keyboard",
        &["rows: Array", "options: Map", "Map"],
        keyboard_doc,
    )
    .with_volatility(false)
    .set_into_module(module, reply_keyboard);

    builtin(
        "remove_keyboard",
        &["Map"],
        r#"
The `reply_markup` that takes a reply keyboard away.

# Example
```rhai
reply("Thanks!", #{reply_markup: remove_keyboard()});
```
"#,
    )
    .with_volatility(false)
    .set_into_module(module, || -> RhaiResult {
        let mut markup = Map::new();
        markup.insert("remove_keyboard".into(), true.into());
        Ok(markup.into())
    });
}

/// A reply keyboard of text buttons, with `options` merged in.
fn reply_keyboard(rows: Array, options: Map) -> RhaiResult {
    let rows = rows_of(rows, "keyboard", |button| {
        match button.into_immutable_string() {
            Ok(text) => Ok(pair(label(&text)?, "", "")),
            Err(_) => Err("each key must be a string".into()),
        }
    })?;
    let mut markup = options;
    markup.insert("keyboard".into(), rows.into());
    markup
        .entry("resize_keyboard".into())
        .or_insert(true.into());
    Ok(markup.into())
}

/// `rows` as an array of rows, each item made by `item`; a flat array is one row.
fn rows_of(
    rows: Array,
    what: &str,
    item: impl Fn(Dynamic) -> Result<Dynamic, String>,
) -> Result<Array, Box<EvalAltResult>> {
    let nested = rows.iter().all(Dynamic::is_array);
    let rows: Vec<Array> = match nested {
        true => rows
            .into_iter()
            .filter_map(|r| r.try_cast::<Array>())
            .collect(),
        false => vec![rows],
    };
    if rows.iter().all(Array::is_empty) {
        return Err(fail(format!("{what}: no buttons given")));
    }
    rows.into_iter()
        .map(|row| {
            row.into_iter()
                .map(|b| item(b).map_err(|e| fail(format!("{what}: {e}"))))
                .collect::<Result<Array, _>>()
                .map(Dynamic::from_array)
        })
        .collect()
}

/// A button's text: not empty.
fn label(text: &str) -> Result<&str, String> {
    match text.trim().is_empty() {
        true => Err("a button's text may not be empty".into()),
        false => Ok(text),
    }
}

/// `#{text, key: value}` (just `#{text}` when `key` is empty).
fn pair(text: &str, key: &str, value: &str) -> Dynamic {
    let mut map = Map::new();
    map.insert("text".into(), text.into());
    if !key.is_empty() {
        map.insert(key.into(), value.into());
    }
    map.into()
}
