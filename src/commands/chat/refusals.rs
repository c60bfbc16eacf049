//! Unit tests of the Salebot family's validation: each bad request is refused by `prepare`,
//! with an error naming the field, before anything could be sent.

use super::ACTIONS;
use serde_json::{Value, json};

/// `prepare`'s refusal of `request` by action `name` (panics if it is served).
fn refusal(name: &str, request: Value) -> String {
    let action = crate::commands::find(ACTIONS, name).expect("a chat action");
    let request = request.as_object().cloned().unwrap_or_default();
    match action.prepare(&request, None) {
        Ok(served) => panic!("{name} served {request:?} as {served:?}"),
        Err(e) => e.error,
    }
}

/// `prepare`'s Bot API call for `request` by action `name` (panics if refused).
fn served(name: &str, request: Value) -> (String, Value) {
    let action = crate::commands::find(ACTIONS, name).expect("a chat action");
    let request = request.as_object().cloned().unwrap_or_default();
    action
        .prepare(&request, None)
        .unwrap_or_else(|e| panic!("{name} refused {request:?}: {e}"))
}

#[test]
fn polls_need_2_to_12_answers_and_a_quiz_a_right_one() {
    let one = json!({"chat_id": 1, "question": "Q?", "options": ["a"]});
    assert_eq!(
        refusal("tg_send_poll", one),
        "options must hold 2–12 answers, got 1"
    );
    let thirteen: Vec<String> = (0..13).map(|i| i.to_string()).collect();
    let many = json!({"chat_id": 1, "question": "Q?", "options": thirteen});
    assert_eq!(
        refusal("tg_send_poll", many),
        "options must hold 2–12 answers, got 13"
    );
    let empty = json!({"chat_id": 1, "question": "Q?", "options": ["a", ""]});
    assert_eq!(
        refusal("tg_send_poll", empty),
        "options[1] must be a text of 1–100 characters"
    );
    let no_question = json!({"chat_id": 1, "question": "", "options": ["a", "b"]});
    assert_eq!(
        refusal("tg_send_poll", no_question),
        "question must be 1–300 characters, got 0"
    );
    let wrong = json!({"chat_id": 1, "question": "Q?", "options": ["a", "b"], "correct_option": 3});
    assert_eq!(
        refusal("tg_send_quiz_poll", wrong),
        "correct_option must be 1–2 (the answers counted from 1), got 3"
    );
    let zero = json!({"chat_id": 1, "question": "Q?", "options": ["a", "b"], "correct_option": 0});
    assert!(refusal("tg_send_quiz_poll", zero).starts_with("correct_option must be 1–2"));
    let long = "x".repeat(201);
    let explained = json!({"chat_id": 1, "question": "Q?", "options": ["a", "b"],
        "correct_option": 1, "explanation": long});
    assert_eq!(
        refusal("tg_send_quiz_poll", explained),
        "explanation must be 0–200 characters, got 201"
    );
}

#[test]
fn places_dice_actions_and_reactions_are_checked() {
    let north = json!({"chat_id": 1, "latitude": 90.5, "longitude": 0});
    assert_eq!(
        refusal("tg_send_location", north),
        "latitude must be within -90 and 90, got 90.5"
    );
    let east = json!({"chat_id": 1, "latitude": 0, "longitude": -181});
    assert_eq!(
        refusal("tg_send_location", east),
        "longitude must be within -180 and 180, got -181"
    );
    let word = json!({"chat_id": 1, "latitude": "north", "longitude": 0});
    assert_eq!(
        refusal("tg_send_location", word),
        "latitude must be a number"
    );
    let venue = json!({"chat_id": 1, "latitude": 1, "longitude": 2, "title": "", "address": "a"});
    assert_eq!(
        refusal("tg_send_venue", venue),
        "title must be 1–256 characters, got 0"
    );
    let die = json!({"chat_id": 1, "emoji": "🐸"});
    assert!(refusal("tg_send_dice", die).starts_with("emoji must be one of 🎲 🎯 🏀 ⚽ 🎳 🎰"));
    let action = json!({"chat_id": 1, "bot_action": "dancing"});
    assert!(
        refusal("tg_send_chat_action", action).starts_with("bot_action must be one of typing,")
    );
    let reaction = json!({"chat_id": 1, "message_id": 2, "reaction": "🐸"});
    assert!(
        refusal("tg_set_message_reaction", reaction)
            .starts_with("reaction \"🐸\" is not one Telegram takes")
    );
    let phone = json!({"chat_id": 1, "phone_number": "call me", "first_name": "A"});
    assert!(refusal("tg_send_contact", phone).starts_with("phone_number may hold only digits"));
}

#[test]
fn topics_titles_and_profile_texts_are_checked() {
    let color = json!({"chat_id": 1, "name": "News", "icon_color": 1});
    assert!(refusal("tg_create_forum_topic", color).starts_with("icon_color must be one of"));
    let long: String = "n".repeat(129);
    let named = json!({"chat_id": 1, "name": long});
    assert_eq!(
        refusal("tg_create_forum_topic", named),
        "name must be 1–128 characters, got 129"
    );
    let nothing = json!({"chat_id": 1, "message_thread_id": 5});
    assert_eq!(
        refusal("tg_edit_forum_topic", nothing),
        "give a new name or icon_custom_emoji_id"
    );
    let thread = json!({"chat_id": 1, "message_thread_id": 0});
    assert_eq!(
        refusal("tg_close_forum_topic", thread),
        "message_thread_id must be a topic's id, above 0"
    );
    let title = json!({"chat_id": 1, "user_id": 2, "custom_title": "seventeen chars!!"});
    assert_eq!(
        refusal("tg_set_administrator_title", title),
        "custom_title must be 0–16 characters, got 17"
    );
    let emoji = json!({"chat_id": 1, "user_id": 2, "custom_title": "boss 🔥"});
    assert!(
        refusal("tg_set_administrator_title", emoji).starts_with("custom_title may not hold emoji")
    );
    let description = json!({"description": "d".repeat(513)});
    assert_eq!(
        refusal("tg_set_my_description", description),
        "description must be 0–512 characters, got 513"
    );
    let language = json!({"short_description": "hi", "language_code": "english"});
    assert!(
        refusal("tg_set_my_short_description", language).starts_with("language_code must be two")
    );
    let scope = json!({"scope": {"chat_id": 1}});
    assert!(refusal("tg_delete_my_commands", scope).starts_with("scope must be a BotCommandScope"));
}

#[test]
fn media_edits_relays_and_callback_urls_are_checked() {
    let kind = json!({"chat_id": 1, "message_id": 2, "media": {"type": "sticker", "media": "x"}});
    assert!(refusal("tg_edit_message_media", kind).starts_with("media.type must be one of"));
    let missing = json!({"chat_id": 1, "message_id": 2, "media": {"type": "photo"}});
    assert!(refusal("tg_edit_message_media", missing).starts_with("media.media must be a URL"));
    let caption = json!({"chat_id": 1, "message_id": 2, "caption": "c".repeat(1025)});
    assert_eq!(
        refusal("tg_edit_message_caption", caption),
        "caption must be 0–1024 characters, got 1025"
    );
    let nowhere = json!({"from_chat_id": 1, "message_id": 2});
    assert_eq!(
        refusal("tg_copy_message", nowhere),
        "chat_id is required: the chat the message goes to"
    );
    let from = json!({"chat_id": 1, "from_chat_id": "somewhere", "message_id": 2});
    assert_eq!(
        refusal("tg_forward_message", from),
        "from_chat_id must be an integer or an \"@username\""
    );
    let url = json!({"callback_query_id": "q", "url": "not a url"});
    assert_eq!(
        refusal("tg_callback_url_open", url),
        "url is required: a link without spaces"
    );
}

#[test]
fn an_uploaded_replacement_is_attached_as_a_part_of_its_own() {
    let upload = json!({"base64": "aGVsbG8=", "filename": "sold.jpg"});
    let (method, params) = served(
        "tg_edit_message_media",
        json!({"chat_id": 1, "message_id": 2, "media": {"type": "photo", "media": upload}}),
    );
    assert_eq!(method, "editMessageMedia");
    assert_eq!(
        params,
        json!({"chat_id": 1, "message_id": 2, "file": upload,
            "media": {"type": "photo", "media": "attach://file"}})
    );
}

#[test]
fn salebots_restriction_by_flag_lists_and_its_conflicts() {
    let flags = json!({"chat_id": 1, "user_id": 2, "permission": [0, 0, 0, 0, 0, 0, 0, 0, 0],
        "media_permissions": [0, 0, 0, 0, 0, 0], "until_date": 100});
    let (method, params) = served("tg_restrict_chat_member", flags);
    assert_eq!(method, "restrictChatMember");
    assert_eq!(params["until_date"], json!(100));
    let perms = params["permissions"].as_object().expect("a map");
    assert_eq!(perms.len(), 14);
    assert!(perms.values().all(|v| v == &json!(false)), "{perms:?}");
    let both = json!({"chat_id": 1, "user_id": 2, "permission": [0, 0, 0, 0, 0, 0, 0, 0, 0],
        "media_permissions": [0, 0, 0, 0, 0, 0], "permissions": {}});
    assert!(refusal("tg_restrict_chat_member", both).starts_with("give either permissions"));
    let short = json!({"chat_id": 1, "user_id": 2, "permission": [0, 0], "media_permissions": []});
    assert_eq!(
        refusal("tg_restrict_chat_member", short),
        "permission must have 9 items, got 2"
    );
}
