//! Sending what is not text or a photo, by Salebot's names: animations, audio, stickers,
//! videos, round video notes and voice messages (a URL or `file_id` as is, or a file
//! uploaded the way `send_photo` uploads one), and contacts, dice, locations and venues.
//! Each answers the sent message; options are Bot API fields passed through.

use super::BUSINESS;
use super::media::{MAX_FILE_BYTES, send_file};
use super::{CHAT_ID, ChatAction, Method, Params, Takes, chat_id};
use crate::commands::FieldSpec;
use crate::request::{CommandError, Fields};
use crate::telegram::UpdateContext;
use serde_json::Value;

/// The emoji `sendDice` takes (the die's faces: 6 for 🎲 🎯 🎳, 5 for 🏀 ⚽, 64 for 🎰).
pub const DICE: [&str; 6] = ["🎲", "🎯", "🏀", "⚽", "🎳", "🎰"];

/// What a send answers: the sent message (its content under the kind's key).
const SENT: &str = r#"{"message_id": 9, "date": 1767225600, "chat": {"id": -1001234567890, "type": "supergroup"}}"#;

/// A file sent by URL, `file_id` or upload, under `key` (`sendAnimation` and the like).
macro_rules! file_action {
    ($name:literal, $method:literal, $key:literal, $arg:literal, $example:literal, $doc:literal) => {
        ChatAction {
            name: $name,
            doc: $doc,
            overloads: send_overloads!($arg),
            method: Method::Fixed($method),
            takes: Takes::AndMore(&[
                BUSINESS,
                CHAT_ID,
                FieldSpec::required(
                    $key,
                    "string|upload",
                    $example,
                    "a URL or file_id, or an upload {\"base64\": …, \"filename\": …}",
                ),
            ]),
            returns: SENT,
            build: |f, ctx| send_file(f, ctx, $key, MAX_FILE_BYTES),
        }
    };
}

pub(super) const TG_SEND_ANIMATION: ChatAction = file_action!(
    "tg_send_animation",
    "sendAnimation",
    "animation",
    "animation: String | Asset | Blob",
    r#""https://example.com/welcome.gif""#,
    r#"
Send a GIF or a soundless MP4 (`sendAnimation`). `animation` is a URL or `file_id`, or a file
(`asset("welcome.gif")` or a blob, at most 50 MB). Options: `caption`, `parse_mode`, … Optional
leading `chat_id`.

# Example
```rhai
tg_send_animation(asset("welcome.gif"), #{caption: "Welcome!"});
```
"#
);

pub(super) const TG_SEND_AUDIO: ChatAction = file_action!(
    "tg_send_audio",
    "sendAudio",
    "audio",
    "audio: String | Asset | Blob",
    r#""https://example.com/anthem.mp3""#,
    r#"
Send music, shown in the player (`sendAudio`, MP3 or M4A). `audio` is a URL or `file_id`, or a
file (at most 50 MB). Options: `caption`, `title`, `performer`, `duration`, … Optional leading
`chat_id`.

# Example
```rhai
tg_send_audio("https://example.com/anthem.mp3", #{title: "Anthem"});
```
"#
);

pub(super) const TG_SEND_STICKER: ChatAction = file_action!(
    "tg_send_sticker",
    "sendSticker",
    "sticker",
    "sticker: String | Asset | Blob",
    r#""CAACAgIAAxkBAAEB""#,
    r#"
Send a sticker (`sendSticker`): a `file_id`, a URL of a .WEBP, or a file. Options: `emoji`,
`reply_markup`, … Optional leading `chat_id`.

# Example
```rhai
tg_send_sticker("CAACAgIAAxkBAAEB");
```
"#
);

pub(super) const TG_SEND_VIDEO: ChatAction = file_action!(
    "tg_send_video",
    "sendVideo",
    "video",
    "video: String | Asset | Blob",
    r#""https://example.com/tour.mp4""#,
    r#"
Send a video (`sendVideo`, MP4). `video` is a URL or `file_id`, or a file (at most 50 MB).
Options: `caption`, `supports_streaming`, … Optional leading `chat_id`.

# Example
```rhai
tg_send_video(asset("tour.mp4"), #{caption: "A tour of the group"});
```
"#
);

pub(super) const TG_SEND_VIDEO_NOTE: ChatAction = file_action!(
    "tg_send_video_note",
    "sendVideoNote",
    "video_note",
    "video_note: String | Asset | Blob",
    r#""DQACAgIAAxkBAAEC""#,
    r#"
Send a round video message (`sendVideoNote`, square MP4 up to a minute): a `file_id` or a file
(Telegram takes no URL here). Options: `duration`, `length`, … Optional leading `chat_id`.

# Example
```rhai
tg_send_video_note(asset("hello.mp4"));
```
"#
);

pub(super) const TG_SEND_VOICE: ChatAction = file_action!(
    "tg_send_voice",
    "sendVoice",
    "voice",
    "voice: String | Asset | Blob",
    r#""https://example.com/hello.ogg""#,
    r#"
Send a voice message (`sendVoice`, OGG with OPUS, MP3 or M4A). `voice` is a URL or `file_id`,
or a file (at most 50 MB). Options: `caption`, `duration`, … Optional leading `chat_id`.

# Example
```rhai
tg_send_voice(asset("hello.ogg"), #{caption: "Listen"});
```
"#
);

pub(super) const TG_SEND_CONTACT: ChatAction = ChatAction {
    name: "tg_send_contact",
    doc: r#"
Send a phone contact (`sendContact`). Options: `last_name`, `vcard`, `reply_markup`, …
Optional leading `chat_id`.

# Example
```rhai
tg_send_contact("+15551234567", "Support desk", #{last_name: "(9–17)"});
```
"#,
    overloads: &[
        &["phone_number: String", "first_name: String", "Map"],
        &[
            "phone_number: String",
            "first_name: String",
            "options: Map",
            "Map",
        ],
        &[
            "chat_id: INT | String",
            "phone_number: String",
            "first_name: String",
            "Map",
        ],
        &[
            "chat_id: INT | String",
            "phone_number: String",
            "first_name: String",
            "options: Map",
            "Map",
        ],
    ],
    method: Method::Fixed("sendContact"),
    takes: Takes::AndMore(&[
        BUSINESS,
        CHAT_ID,
        FieldSpec::required(
            "phone_number",
            "string",
            r#""+15551234567""#,
            "the phone number",
        ),
        FieldSpec::required(
            "first_name",
            "string",
            r#""Support desk""#,
            "the contact's first name, 1–64 characters",
        ),
    ]),
    returns: SENT,
    build: |f, ctx| {
        let mut params = passed_through(f, ctx)?;
        let phone = super::settings::text(f, "phone_number", 1, 64)?;
        if !phone
            .chars()
            .all(|c| c.is_ascii_digit() || "+-() ".contains(c))
        {
            return Err(f.error(format!(
                "phone_number may hold only digits, spaces and + - ( ), got {phone:?}"
            )));
        }
        params.insert("phone_number".into(), phone.into());
        let name = super::settings::text(f, "first_name", 1, 64)?;
        params.insert("first_name".into(), name.into());
        Ok(params)
    },
};

pub(super) const TG_SEND_DICE: ChatAction = ChatAction {
    name: "tg_send_dice",
    doc: r#"
Throw an animated die (`sendDice`) and return the message; its `dice.value` is the result
(1–6 for 🎲 🎯 🎳, 1–5 for 🏀 ⚽, 1–64 for 🎰). Without `emoji`, 🎲. Optional leading `chat_id`.

# Example
```rhai
let thrown = tg_send_dice("🎯");
if thrown.dice.value == 6 { reply("Bullseye!"); }
```
"#,
    overloads: &[
        &["Map"],
        &["emoji: String", "Map"],
        &["chat_id: INT | String", "emoji: String", "Map"],
        &[
            "chat_id: INT | String",
            "emoji: String",
            "options: Map",
            "Map",
        ],
    ],
    method: Method::Fixed("sendDice"),
    takes: Takes::AndMore(&[
        BUSINESS,
        CHAT_ID,
        FieldSpec::optional("emoji", "string", "🎲, 🎯, 🏀, ⚽, 🎳 or 🎰")
            .or(r#""🎲""#)
            .eg(r#""🎯""#),
    ]),
    returns: r#"{"message_id": 9, "date": 1767225600, "chat": {"id": -1001234567890, "type": "supergroup"}, "dice": {"emoji": "🎯", "value": 6}}"#,
    build: |f, ctx| {
        let mut params = passed_through(f, ctx)?;
        if let Some(emoji) = f.opt_str("emoji")? {
            // A trailing variation selector (⚽️) is the same emoji to a reader.
            let emoji = emoji.trim_end_matches('\u{fe0f}');
            if !DICE.contains(&emoji) {
                return Err(f.error(format!(
                    "emoji must be one of {}, got {emoji:?}",
                    DICE.join(" ")
                )));
            }
            params.insert("emoji".into(), emoji.into());
        }
        Ok(params)
    },
};

pub(super) const TG_SEND_LOCATION: ChatAction = ChatAction {
    name: "tg_send_location",
    doc: r#"
Send a point on the map (`sendLocation`): `latitude` within ±90, `longitude` within ±180.
Options: `live_period` (seconds it can be updated), `horizontal_accuracy`, … Optional leading
`chat_id`.

# Example
```rhai
tg_send_location(51.5007, -0.1246);
```
"#,
    overloads: &[
        &["latitude: FLOAT", "longitude: FLOAT", "Map"],
        &["latitude: FLOAT", "longitude: FLOAT", "options: Map", "Map"],
        &[
            "chat_id: INT | String",
            "latitude: FLOAT",
            "longitude: FLOAT",
            "Map",
        ],
        &[
            "chat_id: INT | String",
            "latitude: FLOAT",
            "longitude: FLOAT",
            "options: Map",
            "Map",
        ],
    ],
    method: Method::Fixed("sendLocation"),
    takes: Takes::AndMore(&[BUSINESS, CHAT_ID, LATITUDE, LONGITUDE]),
    returns: r#"{"message_id": 9, "date": 1767225600, "chat": {"id": -1001234567890, "type": "supergroup"}, "location": {"latitude": 51.5007, "longitude": -0.1246}}"#,
    build: |f, ctx| {
        let mut params = passed_through(f, ctx)?;
        place(f, &mut params)?;
        Ok(params)
    },
};

pub(super) const TG_SEND_VENUE: ChatAction = ChatAction {
    name: "tg_send_venue",
    doc: r#"
Send a venue, a named place with its address (`sendVenue`): `latitude` within ±90,
`longitude` within ±180, `title`, `address`. Options: `foursquare_id`, `google_place_id`, …
Optional leading `chat_id`.

# Example
```rhai
tg_send_venue(51.5007, -0.1246, "Meetup", "Westminster, London");
```
"#,
    overloads: &[
        &[
            "latitude: FLOAT",
            "longitude: FLOAT",
            "title: String",
            "address: String",
            "Map",
        ],
        &[
            "latitude: FLOAT",
            "longitude: FLOAT",
            "title: String",
            "address: String",
            "options: Map",
            "Map",
        ],
        &[
            "chat_id: INT | String",
            "latitude: FLOAT",
            "longitude: FLOAT",
            "title: String",
            "address: String",
            "Map",
        ],
        &[
            "chat_id: INT | String",
            "latitude: FLOAT",
            "longitude: FLOAT",
            "title: String",
            "address: String",
            "options: Map",
            "Map",
        ],
    ],
    method: Method::Fixed("sendVenue"),
    takes: Takes::AndMore(&[
        BUSINESS,
        CHAT_ID,
        LATITUDE,
        LONGITUDE,
        FieldSpec::required("title", "string", r#""Meetup""#, "the venue's name"),
        FieldSpec::required(
            "address",
            "string",
            r#""Westminster, London""#,
            "the venue's address",
        ),
    ]),
    returns: r#"{"message_id": 9, "date": 1767225600, "chat": {"id": -1001234567890, "type": "supergroup"}, "venue": {"location": {"latitude": 51.5007, "longitude": -0.1246}, "title": "Meetup", "address": "Westminster, London"}}"#,
    build: |f, ctx| {
        let mut params = passed_through(f, ctx)?;
        place(f, &mut params)?;
        for key in ["title", "address"] {
            let value = super::settings::text(f, key, 1, 256)?;
            params.insert(key.into(), value.into());
        }
        Ok(params)
    },
};

/// A point's latitude.
const LATITUDE: FieldSpec =
    FieldSpec::required("latitude", "number", "51.5007", "degrees north, -90 to 90");

/// A point's longitude.
const LONGITUDE: FieldSpec = FieldSpec::required(
    "longitude",
    "number",
    "-0.1246",
    "degrees east, -180 to 180",
);

/// The request's fields passed through, `chat_id` filled in, buttons checked.
fn passed_through(f: &Fields, ctx: &UpdateContext) -> Result<Params, CommandError> {
    let mut params = f.map.clone();
    params.insert("chat_id".into(), chat_id(f, ctx)?);
    super::check_markup(f, &params)?;
    Ok(params)
}

/// `latitude` and `longitude`, each a number within its bounds, into `params`.
fn place(f: &Fields, params: &mut Params) -> Result<(), CommandError> {
    for (key, bound) in [("latitude", 90.0), ("longitude", 180.0)] {
        let degrees = match f.get(key) {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            None => return Err(f.error(format!("{key} is required"))),
            Some(_) => None,
        }
        .filter(|d| d.is_finite())
        .ok_or_else(|| f.error(format!("{key} must be a number")))?;
        if !(-bound..=bound).contains(&degrees) {
            return Err(f.error(format!(
                "{key} must be within -{bound} and {bound}, got {degrees}"
            )));
        }
        params.insert(key.into(), degrees.into());
    }
    Ok(())
}
