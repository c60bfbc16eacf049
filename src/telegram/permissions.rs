//! The `tg_chat_permission` flag mapping: 9 general flags and 6 media flags in the seed's
//! order, their dependencies, and the 14 Bot API `ChatPermissions` fields they become.
//! Pure: no I/O, so the REPL's `chat_permissions()` shows exactly what would be sent.

use serde_json::{Map, Value};

/// The 9 general flags, in the seed's order (`permission[i]`).
pub const PERMISSION_NAMES: [&str; 9] = [
    "send_messages",
    "send_media_messages",
    "send_polls",
    "send_other_messages",
    "add_web_page_previews",
    "change_info",
    "invite_users",
    "pin_messages",
    "manage_topics",
];

/// The 6 media flags, in the seed's order (`media_permissions[i]`), as Bot API field names.
pub const MEDIA_FIELDS: [&str; 6] = [
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
];

/// Every field of Bot API 10.1 `ChatPermissions` (for `tg_restrict_chat_member`).
pub const CHAT_PERMISSION_FIELDS: [&str; 16] = [
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
    "can_edit_tag",
];

/// Read a flag list named `what` with exactly `len` items, each `0`, `1`, `true` or `false`.
pub fn parse_flags(value: &Value, what: &str, len: usize) -> Result<Vec<bool>, String> {
    let items = value.as_array().ok_or_else(|| {
        format!("{what} must be an array of {len} items (each 0, 1, true or false)")
    })?;
    if items.len() != len {
        return Err(format!("{what} must have {len} items, got {}", items.len()));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Bool(b) => Ok(*b),
            Value::Number(n) if n.as_i64() == Some(0) => Ok(false),
            Value::Number(n) if n.as_i64() == Some(1) => Ok(true),
            _ => Err(format!("{what}[{i}] must be 0, 1, true or false")),
        })
        .collect()
}

/// The 14 `ChatPermissions` fields for `permission` (9 flags) and `media` (6 flags), with the
/// seed's dependencies applied: media needs messages; other messages and web page previews
/// need media; polls need messages.
pub fn chat_permissions(permission: &[bool; 9], media: &[bool; 6]) -> Map<String, Value> {
    let [
        messages,
        media_allowed,
        polls,
        other,
        previews,
        info,
        invite,
        pin,
        topics,
    ] = *permission;
    let media_ok = messages && media_allowed;
    let mut map = Map::new();
    let mut set = |field: &str, on: bool| {
        map.insert(field.to_string(), Value::Bool(on));
    };
    set("can_send_messages", messages);
    for (field, on) in MEDIA_FIELDS.iter().zip(media) {
        set(field, *on && media_ok);
    }
    set("can_send_polls", polls && messages);
    set("can_send_other_messages", other && media_ok);
    set("can_add_web_page_previews", previews && media_ok);
    set("can_change_info", info);
    set("can_invite_users", invite);
    set("can_pin_messages", pin);
    set("can_manage_topics", topics);
    map
}

/// Parse both flag lists and map them (errors are the seed-style messages).
pub fn from_flag_lists(permission: &Value, media: &Value) -> Result<Map<String, Value>, String> {
    let p = parse_flags(permission, "permission", 9)?;
    let m = parse_flags(media, "media_permissions", 6)?;
    let p: [bool; 9] = p
        .try_into()
        .map_err(|_| "permission must have 9 items".to_string())?;
    let m: [bool; 6] = m
        .try_into()
        .map_err(|_| "media_permissions must have 6 items".to_string())?;
    Ok(chat_permissions(&p, &m))
}

/// Check a `ChatPermissions` map given by a script: known fields only, boolean values.
pub fn check_permission_map(map: &Map<String, Value>) -> Result<(), String> {
    for (key, value) in map {
        if !CHAT_PERMISSION_FIELDS.contains(&key.as_str()) {
            return Err(format!(
                "unknown permission '{key}' (known: {})",
                CHAT_PERMISSION_FIELDS.join(", ")
            ));
        }
        if !value.is_boolean() && value.as_i64().is_none_or(|n| n != 0 && n != 1) {
            return Err(format!("permissions.{key} must be true or false"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(p: [u8; 9], m: [u8; 6]) -> Map<String, Value> {
        from_flag_lists(&json!(p), &json!(m)).expect("valid flags")
    }

    #[test]
    fn seed_example_allows_everything_but_topics() {
        let perms = map([1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]);
        assert_eq!(perms.len(), 14);
        for (field, value) in &perms {
            assert_eq!(value, &json!(field != "can_manage_topics"), "{field}");
        }
    }

    #[test]
    fn media_needs_messages_and_media_flag() {
        let no_messages = map([0, 1, 1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]);
        for field in MEDIA_FIELDS {
            assert_eq!(no_messages[field], json!(false), "{field} without messages");
        }
        assert_eq!(no_messages["can_send_polls"], json!(false));
        assert_eq!(no_messages["can_send_other_messages"], json!(false));
        assert_eq!(no_messages["can_add_web_page_previews"], json!(false));

        let no_media = map([1, 0, 1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]);
        for field in MEDIA_FIELDS {
            assert_eq!(no_media[field], json!(false), "{field} without media flag");
        }
        assert_eq!(
            no_media["can_send_polls"],
            json!(true),
            "polls need only messages"
        );
        assert_eq!(no_media["can_send_other_messages"], json!(false));
        assert_eq!(no_media["can_add_web_page_previews"], json!(false));
    }

    #[test]
    fn media_flags_map_one_to_one_when_allowed() {
        let perms = map([1, 1, 0, 0, 0, 0, 0, 0, 0], [1, 0, 1, 0, 1, 0]);
        let got: Vec<bool> = MEDIA_FIELDS
            .iter()
            .map(|f| perms[*f].as_bool().unwrap_or_default())
            .collect();
        assert_eq!(got, [true, false, true, false, true, false]);
    }

    #[test]
    fn independent_flags_pass_through() {
        let perms = map([0, 0, 0, 0, 0, 1, 0, 1, 1], [0, 0, 0, 0, 0, 0]);
        assert_eq!(perms["can_change_info"], json!(true));
        assert_eq!(perms["can_invite_users"], json!(false));
        assert_eq!(perms["can_pin_messages"], json!(true));
        assert_eq!(perms["can_manage_topics"], json!(true));
        assert_eq!(perms["can_send_messages"], json!(false));
    }

    #[test]
    fn bad_lists_give_seed_style_errors() {
        let ok6 = json!([1, 1, 1, 1, 1, 1]);
        let err = |p: Value, m: Value| from_flag_lists(&p, &m).expect_err("invalid");
        assert_eq!(
            err(json!([1, 1, 1, 1, 1]), ok6.clone()),
            "permission must have 9 items, got 5"
        );
        assert_eq!(
            err(
                json!([1, 1, 1, 1, 1, 1, 1, 1, 1]),
                json!([1, 1, 1, 1, 1, 1, 1])
            ),
            "media_permissions must have 6 items, got 7"
        );
        assert_eq!(
            err(json!([1, 1, 1, 2, 1, 1, 1, 1, 1]), ok6.clone()),
            "permission[3] must be 0, 1, true or false"
        );
        assert_eq!(
            err(json!([1, 1, 1, "1", 1, 1, 1, 1, 1]), ok6.clone()),
            "permission[3] must be 0, 1, true or false"
        );
        assert_eq!(
            err(json!("all"), ok6),
            "permission must be an array of 9 items (each 0, 1, true or false)"
        );
        assert!(
            from_flag_lists(
                &json!([true, false, 1, 0, 1, 1, 1, 1, 0]),
                &json!([0, 0, 0, 0, 0, 0])
            )
            .is_ok()
        );
    }
}
