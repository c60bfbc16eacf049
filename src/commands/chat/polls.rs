//! Polls and quizzes, by Salebot's names: `tg_send_poll`, `tg_send_quiz_poll` (`sendPoll`
//! with `type: "quiz"`) and `tg_stop_poll`. The answers are checked before anything is sent:
//! 2–12 of them, each 1–100 characters, a quiz's correct one among them.

use super::BUSINESS;
use super::{CHAT_ID, ChatAction, Method, Params, Takes, chat_id, put_opt_bool};
use crate::commands::FieldSpec;
use crate::request::{CommandError, Fields};
use crate::telegram::UpdateContext;
use serde_json::{Value, json};

/// How many answers a poll has, at least and at most.
const ANSWERS: std::ops::RangeInclusive<usize> = 2..=12;

/// The question.
const QUESTION: FieldSpec = FieldSpec::required(
    "question",
    "string",
    r#""Your favourite colour?""#,
    "the question, 1–300 characters",
);

/// The answers.
const OPTIONS: FieldSpec = FieldSpec::required(
    "options",
    "list",
    r#"["red", "green", "blue"]"#,
    "2–12 answers: strings of 1–100 characters (or InputPollOption maps)",
);

/// What a poll's message looks like.
const SENT_POLL: &str = r#"{"message_id": 9, "date": 1767225600, "chat": {"id": -1001234567890, "type": "supergroup"}, "poll": {"id": "5325838371359031648", "question": "Your favourite colour?", "options": [{"text": "red", "voter_count": 0}, {"text": "green", "voter_count": 0}, {"text": "blue", "voter_count": 0}], "total_voter_count": 0, "is_closed": false, "is_anonymous": true, "type": "regular", "allows_multiple_answers": false}}"#;

pub(super) const TG_SEND_POLL: ChatAction = ChatAction {
    name: "tg_send_poll",
    doc: r#"
Send a poll (`sendPoll`) and return its message: keep `message_id` to stop it with
`tg_stop_poll`. `options` are 2–12 answers. As Salebot's, optional `is_anonymous` and
`allows_multiple_answers` follow; other Bot API fields (`open_period`, `reply_markup`, …) go
in a settings map. Optional leading `chat_id`.

# Example
```rhai
let poll = tg_send_poll("Your favourite colour?", ["red", "green", "blue"]);
tg_send_poll(-1001234567890, "Lunch?", ["pizza", "sushi"], false, true);
```
"#,
    overloads: &[
        &["question: String", "options: Array", "Map"],
        &["question: String", "options: Array", "settings: Map", "Map"],
        &[
            "chat_id: INT | String",
            "question: String",
            "options: Array",
            "Map",
        ],
        &[
            "chat_id: INT | String",
            "question: String",
            "options: Array",
            "settings: Map",
            "Map",
        ],
        &[
            "chat_id: INT | String",
            "question: String",
            "options: Array",
            "is_anonymous: bool",
            "allows_multiple_answers: bool",
            "Map",
        ],
    ],
    method: Method::Fixed("sendPoll"),
    takes: Takes::AndMore(&[
        BUSINESS,
        CHAT_ID,
        QUESTION,
        OPTIONS,
        FieldSpec::optional("is_anonymous", "boolean", "whether votes are anonymous").or("true"),
        FieldSpec::optional(
            "allows_multiple_answers",
            "boolean",
            "whether one may pick several answers",
        )
        .or("false"),
    ]),
    returns: SENT_POLL,
    build: |f, ctx| {
        let mut params = poll(f, ctx)?;
        put_opt_bool(f, &mut params, "is_anonymous")?;
        put_opt_bool(f, &mut params, "allows_multiple_answers")?;
        Ok(params)
    },
};

pub(super) const TG_SEND_QUIZ_POLL: ChatAction = ChatAction {
    name: "tg_send_quiz_poll",
    doc: r#"
Send a quiz, a poll with one right answer (`sendPoll` with `type: "quiz"`), and return its
message. As in Salebot, `correct_option` counts the answers from 1 (it is sent as the Bot
API's 0-based `correct_option_id`); `explanation` (0–200 characters) is shown to who answers
wrongly. Other Bot API fields go in a settings map. Optional leading `chat_id`.

# Example
```rhai
tg_send_quiz_poll("What colour is a crocodile?", ["white", "red", "green"], 3);
tg_send_quiz_poll(-1001234567890, "2 + 2?", ["3", "4"], "Count again.", 2);
```
"#,
    overloads: &[
        &[
            "question: String",
            "options: Array",
            "correct_option: INT",
            "Map",
        ],
        &[
            "question: String",
            "options: Array",
            "correct_option: INT",
            "settings: Map",
            "Map",
        ],
        &[
            "chat_id: INT | String",
            "question: String",
            "options: Array",
            "explanation: String",
            "correct_option: INT",
            "Map",
        ],
        &[
            "chat_id: INT | String",
            "question: String",
            "options: Array",
            "explanation: String",
            "correct_option: INT",
            "settings: Map",
            "Map",
        ],
    ],
    method: Method::Fixed("sendPoll"),
    takes: Takes::AndMore(&[
        BUSINESS,
        CHAT_ID,
        QUESTION,
        OPTIONS,
        FieldSpec::required(
            "correct_option",
            "integer",
            "2",
            "the right answer, counted from 1 (Salebot's numbering)",
        ),
        FieldSpec::optional(
            "explanation",
            "string",
            "shown to who answers wrongly, 0–200 characters",
        ),
    ]),
    returns: r#"{"message_id": 9, "date": 1767225600, "chat": {"id": -1001234567890, "type": "supergroup"}, "poll": {"id": "5325838371359031649", "question": "2 + 2?", "options": [{"text": "3", "voter_count": 0}, {"text": "4", "voter_count": 0}], "total_voter_count": 0, "is_closed": false, "is_anonymous": true, "type": "quiz", "allows_multiple_answers": false, "correct_option_id": 1}}"#,
    build: |f, ctx| {
        let mut params = poll(f, ctx)?;
        let count = params["options"].as_array().map_or(0, Vec::len);
        let correct = f.int("correct_option")?;
        let index = usize::try_from(correct)
            .ok()
            .filter(|n| (1..=count).contains(n))
            .ok_or_else(|| {
                f.error(format!(
                    "correct_option must be 1–{count} (the answers counted from 1), got {correct}"
                ))
            })?;
        params.remove("correct_option");
        params.insert("type".into(), "quiz".into());
        params.insert("correct_option_id".into(), (index - 1).into());
        if f.get("explanation").is_some() {
            let explanation = super::settings::text(f, "explanation", 0, 200)?;
            params.insert("explanation".into(), explanation.into());
        }
        Ok(params)
    },
};

pub(super) const TG_STOP_POLL: ChatAction = ChatAction {
    name: "tg_stop_poll",
    doc: r#"
Stop a poll the bot sent (`stopPoll`) and return the final `Poll` with its counts. Optional
leading `chat_id`.

# Example
```rhai
let poll = tg_send_poll("Lunch?", ["pizza", "sushi"]);
let result = tg_stop_poll(poll.message_id);
print(result.options[0].voter_count);
```
"#,
    overloads: &[
        &["message_id: INT", "Map"],
        &["chat_id: INT | String", "message_id: INT", "Map"],
    ],
    method: Method::Fixed("stopPoll"),
    takes: Takes::Only(&[
        BUSINESS,
        CHAT_ID,
        FieldSpec::required("message_id", "integer", "9", "the poll's message"),
    ]),
    returns: r#"{"id": "5325838371359031648", "question": "Lunch?", "options": [{"text": "pizza", "voter_count": 3}, {"text": "sushi", "voter_count": 1}], "total_voter_count": 4, "is_closed": true, "is_anonymous": true, "type": "regular", "allows_multiple_answers": false}"#,
    build: |f, ctx| {
        let id = f.int("message_id")?;
        super::settings::params_with(f, ctx, "message_id", id.into())
    },
};

/// `sendPoll`'s common part: the fields passed through, the chat, the question and the
/// answers as `InputPollOption` maps.
fn poll(f: &Fields, ctx: &UpdateContext) -> Result<Params, CommandError> {
    let mut params = f.map.clone();
    params.insert("chat_id".into(), chat_id(f, ctx)?);
    let question = super::settings::text(f, "question", 1, 300)?;
    params.insert("question".into(), question.into());
    let Some(Value::Array(answers)) = f.get("options") else {
        return Err(f.error("options must be a list of 2–12 answers"));
    };
    if !ANSWERS.contains(&answers.len()) {
        return Err(f.error(format!(
            "options must hold 2–12 answers, got {}",
            answers.len()
        )));
    }
    let mut options = Vec::with_capacity(answers.len());
    for (i, answer) in answers.iter().enumerate() {
        let text = match answer {
            Value::String(text) => Some(text.as_str()),
            Value::Object(map) => map.get("text").and_then(Value::as_str),
            _ => None,
        };
        let length = text.map_or(0, |t| t.chars().count());
        if !(1..=100).contains(&length) {
            return Err(f.error(format!("options[{i}] must be a text of 1–100 characters")));
        }
        options.push(match answer {
            Value::Object(_) => answer.clone(),
            _ => json!({ "text": text }),
        });
    }
    params.insert("options".into(), Value::Array(options));
    super::check_markup(f, &params)?;
    Ok(params)
}
