//! Inline mode: answering a user's `@bot query` with results (articles, photos, … — built with
//! `inline_article` and the other result builders, or written as Bot API maps), with paging
//! and caching.

use super::{ChatAction, Method, Takes, put_opt_bool, put_opt_int};
use crate::commands::FieldSpec;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// The most results one answer may hold.
pub const MAX_INLINE_RESULTS: usize = 50;
/// The longest result id and `next_offset`, in bytes.
const MAX_ID_BYTES: usize = 64;
/// The kinds of `InlineQueryResult` Telegram takes.
pub const RESULT_TYPES: &[&str] = &[
    "article",
    "photo",
    "gif",
    "mpeg4_gif",
    "video",
    "audio",
    "voice",
    "document",
    "location",
    "venue",
    "contact",
    "game",
    "sticker",
];

pub(super) const ANSWER_INLINE_QUERY: ChatAction = ChatAction {
    name: "answer_inline_query",
    doc: r#"
Answer an inline query (`answerInlineQuery`: a user typed `@your_bot something` in any chat)
with up to 50 results, built with `inline_article`, `inline_photo`, … or written as Bot API
`InlineQueryResult` maps. Options: `cache_time` (seconds Telegram may reuse the answer, default
300), `is_personal` (cache per user), `next_offset` (ask for more: Telegram sends it back as
`query.offset` when the user scrolls), `button`.

# Example
```rhai
fn on_inline_query(query) {
    let results = [
        inline_article("hello", "Say hello", `Hello, ${query.query}!`),
        inline_photo("cat", "https://example.com/cat.jpg"),
    ];
    answer_inline_query(query.id, results, #{cache_time: 10, is_personal: true});
}
```
"#,
    overloads: &[
        &["inline_query_id: String", "results: Array", "bool"],
        &[
            "inline_query_id: String",
            "results: Array",
            "options: Map",
            "bool",
        ],
    ],
    method: Method::Confirmed("answerInlineQuery"),
    takes: Takes::Only(&[
        FieldSpec::required(
            "inline_query_id",
            "string",
            r#""2342873498234""#,
            "the query (its `id`)",
        ),
        FieldSpec::required(
            "results",
            "list",
            r#"[{"type": "article", "id": "hello", "title": "Say hello", "input_message_content": {"message_text": "Hello!"}}]"#,
            "0–50 InlineQueryResult maps, each with its type and an id of 1–64 bytes, unique",
        ),
        FieldSpec::optional(
            "cache_time",
            "integer",
            "seconds Telegram may serve the answer again (default 300)",
        ),
        FieldSpec::optional("is_personal", "boolean", "cache the answer per user"),
        FieldSpec::optional(
            "next_offset",
            "string",
            "the offset of the next page (up to 64 bytes; empty: no more)",
        ),
        FieldSpec::optional(
            "button",
            "map",
            "a button above the results ({text, web_app} or {text, start_parameter})",
        ),
    ]),
    returns: "true",
    build: |f, _| {
        let id = f
            .opt_str("inline_query_id")?
            .filter(|id| !id.is_empty())
            .ok_or_else(|| f.error("inline_query_id is required (the query's id)"))?;
        let results = match f.get("results") {
            Some(Value::Array(results)) => results,
            _ => return Err(f.error("results must be a list of results")),
        };
        if results.len() > MAX_INLINE_RESULTS {
            return Err(f.error(format!(
                "at most {MAX_INLINE_RESULTS} results per answer, got {}: page with next_offset",
                results.len()
            )));
        }
        let mut seen = HashSet::new();
        for result in results {
            if let Some(problem) = result_problem(result) {
                return Err(f.error(problem));
            }
            if !seen.insert(result["id"].as_str()) {
                return Err(f.error(format!(
                    "two results have the id {}: each needs its own",
                    result["id"]
                )));
            }
        }
        if let Some(cache) = f.opt_int("cache_time")?
            && cache < 0
        {
            return Err(f.error("cache_time must be 0 or more seconds"));
        }
        if let Some(offset) = f.opt_str("next_offset")?
            && offset.len() > MAX_ID_BYTES
        {
            return Err(f.error(format!(
                "next_offset must be at most {MAX_ID_BYTES} bytes, got {}",
                offset.len()
            )));
        }
        let mut params = Map::new();
        params.insert("inline_query_id".into(), id.into());
        params.insert("results".into(), Value::Array(results.clone()));
        put_opt_int(f, &mut params, "cache_time")?;
        put_opt_bool(f, &mut params, "is_personal")?;
        if let Some(offset) = f.opt_str("next_offset")? {
            params.insert("next_offset".into(), offset.into());
        }
        if let Some(button) = f.opt_map("button")? {
            params.insert("button".into(), Value::Object(button.clone()));
        }
        Ok(params)
    },
};

/// What is wrong with one result, if anything: it must be a map with a known `type` and an
/// `id` of 1–64 bytes.
pub fn result_problem(result: &Value) -> Option<String> {
    let kind = result["type"].as_str().unwrap_or_default();
    if !RESULT_TYPES.contains(&kind) {
        return Some(format!(
            "each result needs a type, one of {}; got {result}",
            RESULT_TYPES.join(", ")
        ));
    }
    match result["id"].as_str() {
        Some(id) if !id.is_empty() && id.len() <= MAX_ID_BYTES => None,
        _ => Some(format!(
            "each result needs an id of 1–{MAX_ID_BYTES} bytes; got {result}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prepare(request: Value) -> Result<Value, String> {
        let Value::Object(request) = request else {
            panic!("a map")
        };
        ANSWER_INLINE_QUERY
            .prepare(&request, None)
            .map(|(_, params)| params)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn results_are_checked_and_passed_as_they_are() {
        let article = json!({"type": "article", "id": "a", "title": "A",
            "input_message_content": {"message_text": "a"}});
        assert_eq!(
            prepare(json!({"inline_query_id": "q", "results": [article], "cache_time": 5})),
            Ok(json!({"inline_query_id": "q", "results": [article], "cache_time": 5}))
        );
        let twice = json!({"inline_query_id": "q", "results": [article, article]});
        assert!(prepare(twice).is_err_and(|e| e.contains("two results have the id")));
        let untyped = json!({"inline_query_id": "q", "results": [{"id": "x"}]});
        assert!(prepare(untyped).is_err_and(|e| e.contains("needs a type")));
        let long_id = json!({"inline_query_id": "q",
            "results": [{"type": "article", "id": "x".repeat(65)}]});
        assert!(prepare(long_id).is_err_and(|e| e.contains("1–64 bytes")));
        let many: Vec<Value> = (0..51)
            .map(|n| json!({"type": "article", "id": n.to_string()}))
            .collect();
        let too_many = json!({"inline_query_id": "q", "results": many});
        assert!(prepare(too_many).is_err_and(|e| e.contains("at most 50")));
    }
}
