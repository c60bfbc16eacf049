//! The sandbox lines about a business account, reactions and boosts: `/business connect
//! [RIGHT…]` (the current user connects the bot to their business account), `/business
//! disconnect`, `/business TEXT` (the current user writes to the connected account),
//! `/business edit N TEXT`, `/business delete N…`; `/react EMOJI [#N]`, `/boost`.

use super::{Refused, SANDBOX_CHAT_ID, Said, Users, chat_and_user, first_word, message_number};
use crate::sandbox::world::World;

/// The rights `/business connect` grants when it names none.
const DEFAULT_RIGHTS: &[&str] = &["can_reply", "can_read_messages"];

/// `/business …`: connect, disconnect, or a customer's message, edit or deletion.
pub(super) fn business(
    said: &Said,
    world: &mut World,
    users: &mut Users,
    after: &str,
) -> Result<String, Refused> {
    let (word, rest) = first_word(after);
    let user = users.id(world, &said.user);
    let name = &said.user;
    match word {
        "" => Err(Refused::Usage),
        "connect" => {
            // `reply` is short for `can_reply`.
            let named: Vec<String> = rest
                .split_whitespace()
                .map(|r| match r.starts_with("can_") {
                    true => r.to_string(),
                    false => format!("can_{r}"),
                })
                .collect();
            let rights: Vec<&str> = match named.is_empty() {
                true => DEFAULT_RIGHTS.to_vec(),
                false => named.iter().map(String::as_str).collect(),
            };
            let id = world.connect_business(user, &rights)?;
            Ok(format!(
                "{name} connects the bot to their business account ({id}) with {}",
                match rights.is_empty() {
                    true => "no rights".to_string(),
                    false => rights.join(", "),
                }
            ))
        }
        "disconnect" => {
            let id = world.disconnect_business(user)?;
            Ok(format!(
                "{name} turns the bot off for their business account ({id})"
            ))
        }
        "edit" => {
            let (number, text) = first_word(rest);
            let number = message_number(number)
                .filter(|_| !text.is_empty())
                .ok_or(Refused::Usage)?;
            let owner = owner(world)?;
            world.edit_business_message(owner, user, number, text)?;
            Ok(format!("#{number} {name} → business (edited): {text}"))
        }
        "delete" => {
            let ids: Option<Vec<i64>> = rest.split_whitespace().map(message_number).collect();
            let ids = ids.filter(|ids| !ids.is_empty()).ok_or(Refused::Usage)?;
            let owner = owner(world)?;
            world.delete_business_messages(owner, user, &ids)?;
            Ok(format!("{name} deletes business messages {ids:?}"))
        }
        _ => {
            let owner = owner(world)?;
            let message = world.business_message(owner, user, after)?;
            Ok(format!(
                "#{} {name} → {}'s business account: {after}",
                message["message_id"],
                world.name(owner)
            ))
        }
    }
}

/// The owner of the business account connected last.
fn owner(world: &World) -> Result<i64, Refused> {
    world.business_owner().ok_or_else(|| {
        "no business account is connected to the bot: /as NAME /business connect first".into()
    })
}

/// `/react EMOJI [#N]`: the current user reacts to message #N (default: the newest here).
pub(super) fn react(
    said: &Said,
    world: &mut World,
    users: &mut Users,
    after: &str,
) -> Result<String, Refused> {
    let (emoji, number) = first_word(after);
    if emoji.is_empty() {
        return Err(Refused::Usage);
    }
    let message = match number {
        "" => None,
        number => Some(message_number(number).ok_or(Refused::Usage)?),
    };
    let (chat, id) = chat_and_user(said, world, users);
    let reacted = world.react(chat, id, message, emoji)?;
    Ok(format!("{} reacts {emoji} to #{reacted}", said.user))
}

/// `/boost`: the current user boosts the group.
pub(super) fn boost(
    said: &Said,
    world: &mut World,
    users: &mut Users,
    _: &str,
) -> Result<String, Refused> {
    if said.private {
        return Err("boosts are for the group: say it without /dm".into());
    }
    let id = users.id(world, &said.user);
    world.boost(SANDBOX_CHAT_ID, id)?;
    Ok(format!("{} boosts the group", said.user))
}
