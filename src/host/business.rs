//! Calls on a business account's behalf, checked by the host before Telegram is asked: the
//! connection a call names (`business_connection_id`) must be one of this bot's (recorded
//! from its `business_connection` updates, else looked up once with `getBusinessConnection`
//! and recorded), enabled, and grant the right the method needs
//! ([`crate::telegram::business::needs`]). A connection id is a capability: a bot's store
//! rows are its own, and Telegram answers the look-up only for the bot it belongs to.

use super::Host;
use crate::request::CommandError;
use crate::store::DEFAULT_BOT;
use crate::telegram::BotError;
use crate::telegram::business::{self, Connection, FIELD};
use serde_json::{Value, json};

/// A 403 refusal of `command`: nothing was sent.
fn refused(command: &str, error: String) -> CommandError {
    CommandError {
        command: command.to_string(),
        error,
        code: Some(403),
        hint: None,
    }
}

impl Host {
    /// Whether Bot API `method` with `params` may go out: `Ok` when it names no business
    /// connection, or one of this bot's that is enabled and grants what `method` needs.
    pub(super) fn check_business(
        &self,
        command: &str,
        method: &str,
        params: &Value,
    ) -> Result<(), CommandError> {
        let Some(named) = params.get(FIELD).filter(|v| !v.is_null()) else {
            return Ok(());
        };
        if let Some(problem) = business::id_problem(named) {
            return Err(CommandError::invalid(command, problem));
        }
        let id = named.as_str().unwrap_or_default();
        let Some(rights) = business::needs(method) else {
            return Ok(());
        };
        let connection = self.business_connection(command, id)?;
        match connection.refusal(rights) {
            None => Ok(()),
            Some(why) => Err(refused(command, why)),
        }
    }

    /// The bot the host acts for, as its rows in the store are keyed.
    fn bot_key(&self) -> &str {
        self.caller
            .as_ref()
            .and_then(|c| c.bot_id())
            .unwrap_or(DEFAULT_BOT)
    }

    /// Connection `id` of this bot: recorded, else asked of Telegram once and recorded.
    fn business_connection(&self, command: &str, id: &str) -> Result<Connection, CommandError> {
        let bot = self.bot_key();
        let stored = self
            .store
            .business_connection(bot, id)
            .map_err(|e| CommandError::invalid(command, e.to_string()))?;
        if let Some(connection) = stored {
            return Ok(connection);
        }
        let client = self.bot.as_ref().ok_or_else(|| {
            CommandError::invalid(command, "no bot connected: a business connection needs one")
        })?;
        let asked = self
            .block_on(
                command,
                client.call("getBusinessConnection", &json!({ FIELD: id })),
            )?
            .map_err(|e| match e {
                // Telegram answers the look-up only for the bot the connection belongs to.
                BotError::Api { code: 400, .. } => refused(
                    command,
                    format!(
                        "business connection {id:?} is not one of this bot's ({e}): use the business_connection_id of an update this bot received"
                    ),
                ),
                // Not Telegram's word on the connection (the network, a flood wait): as it is.
                _ => super::refusal(command, &e),
            })?;
        let connection = Connection::from_api(&asked).ok_or_else(|| {
            CommandError::invalid(
                command,
                format!("getBusinessConnection answered no connection for {id:?}: {asked}"),
            )
        })?;
        self.store
            .record_business_connection(bot, &connection)
            .map_err(|e| CommandError::invalid(command, e.to_string()))?;
        Ok(connection)
    }
}
