//! Every action the gateway accepts, from four tables: the account commands
//! ([`crate::commands::account::COMMANDS`]), the login steps
//! ([`crate::commands::login::ACTIONS`]), the chat actions
//! ([`crate::commands::chat::ACTIONS`]) and the gateway's own ([`GATEWAY_ACTIONS`]:
//! `run_script`, the admin actions over bots, their scripts and inboxes, `download`, over
//! accounts and over the tenants' tokens, the sandbox chat, `activity`, `subscribe`,
//! `reference`). The dispatch's
//! "known?" check ([`find`]), the unknown-field warnings ([`Action::warnings`]) and the
//! reference (`tgscript docs --gateway`) all read them through [`all`].
//!
//! Each action runs where it is declared: a gateway action's [`Run`] does its work (in this
//! process, or on a bot of the caller's tenant wherever that bot runs: [`Action::run_on_bot`],
//! the same on a cluster's owner), an account command, login step or chat action runs its own
//! entry. A request is parsed once and its action looked up once ([`super::request`]).
//! Adding a gateway action is one entry in [`GATEWAY_ACTIONS`]; an account command or chat
//! action is one entry in its table.

mod accounts;
mod activity;
mod bots;
mod files;

pub use bots::BotControl;
mod inbox;
mod reference;
mod run_script;
mod scripts;
mod tenants;

pub(super) use accounts::WEBSOCKET_ONLY;

pub use super::admin::Access;
use super::admin::BotScope;
use super::{Client, Gateway};
use crate::authority::Checked;
use crate::commands::account::{self, AccountCommand};
use crate::commands::chat::{self, ChatAction, Method};
use crate::commands::login::{self, LoginAction};
use crate::commands::{FieldSpec, fields, required_userbot_id};
use crate::effects::Effects;
use crate::request::CommandError;
use serde_json::{Map, Value};
use std::sync::Arc;

/// What runs a gateway action in the process that took it: the gateway, who asks, the
/// action's name and the request (envelope included); called on a blocking thread.
pub type Handler = fn(&Gateway, &Client, &str, &Map<String, Value>) -> Result<Value, CommandError>;

/// What runs a gateway action on one bot: the bot (of the caller's tenant, resolved where it
/// runs), the action's name and the request; called on a blocking thread.
pub type OnBot = fn(&BotScope, &str, &Map<String, Value>) -> Result<Value, CommandError>;

/// Where a gateway action runs.
#[derive(Clone, Copy)]
pub enum Run {
    /// In the process that took the request.
    Here(Handler),
    /// On the bot named by the `bot_id` field, wherever it runs (its owner, in a cluster).
    OnBot(WhichBot, OnBot),
    /// On the WebSocket connection that took it (`subscribe`, `unsubscribe`).
    Connection(Subscription),
}

/// Which bot an action on a bot is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhichBot {
    /// The one `bot_id` names (required).
    Named,
    /// The one `bot_id` names, or the only one.
    OnlyOrNamed,
    /// The one `bot_id` names, or the only one; where no bots run (`serve`), the scripts
    /// folder as a bot of its own.
    OnlyNamedOrFolder,
}

/// What a connection's own action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscription {
    /// Push account events to the connection.
    Subscribe,
    /// Stop pushing them.
    Unsubscribe,
}

/// One action of the gateway's own.
pub struct ActionSpec {
    /// The action's name.
    pub name: &'static str,
    /// Who may take it.
    pub access: Access,
    /// What it does.
    pub doc: &'static str,
    /// Its request fields (besides the envelope).
    pub fields: &'static [FieldSpec],
    /// What a success's `data` holds, in words.
    pub success: &'static str,
    /// What a success's `data` looks like: an example, as JSON text.
    pub returns: &'static str,
    /// The errors its `<name>_error` event may carry.
    pub errors: &'static [&'static str],
    /// Does the work.
    pub run: Run,
}

/// The gateway's own actions.
pub const GATEWAY_ACTIONS: &[ActionSpec] = &[
    run_script::RUN_SCRIPT,
    bots::ADD_BOT,
    bots::REMOVE_BOT,
    bots::LIST_BOTS,
    scripts::PUT_SCRIPT,
    scripts::GET_SCRIPT,
    scripts::DELETE_SCRIPT,
    scripts::LIST_SCRIPTS,
    scripts::CHECK_SCRIPT,
    bots::SANDBOX_CHAT,
    inbox::INBOX_LIST,
    inbox::INBOX_RETRY,
    files::DOWNLOAD,
    activity::ACTIVITY,
    accounts::ADD_ACCOUNT,
    accounts::REMOVE_ACCOUNT,
    accounts::LIST_ACCOUNTS,
    accounts::SANDBOX_LOGIN_FROM,
    accounts::SANDBOX_CONFIRM_QR,
    accounts::SUBSCRIBE,
    accounts::UNSUBSCRIBE,
    tenants::ADD_TENANT_TOKEN,
    tenants::LIST_TENANT_TOKENS,
    tenants::REMOVE_TENANT_TOKEN,
    reference::REFERENCE,
];

/// The fields every request may carry, whatever its action.
pub const ENVELOPE: &[FieldSpec] = &[
    FieldSpec::required(
        "action",
        "string",
        r#""get_active_sessions""#,
        "the action's name",
    ),
    FieldSpec::optional(
        "request_id",
        "any",
        "echoed in the answer (a number digit for digit, however long)",
    ),
    FieldSpec::optional(
        "userbot_id",
        "integer",
        "the account (required by account commands); echoed in the answer",
    ),
    FieldSpec::optional(
        "bot_id",
        "string",
        "account commands and chat actions: the bot to act through when `run` runs several",
    ),
];

/// The families actions come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A seed command on a TDLib account (`userbot_id`).
    Account,
    /// A login step of an account (`userbot_id`).
    Login,
    /// A Bot API call through a bot.
    Chat,
    /// The gateway's own (scripts, bots, …).
    Gateway,
}

impl Kind {
    /// The kind's name in the reference.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Account => "account",
            Kind::Login => "login",
            Kind::Chat => "chat",
            Kind::Gateway => "gateway",
        }
    }
}

/// One accepted action, whichever table it is in.
#[derive(Clone, Copy)]
pub enum Action {
    /// An account command.
    Account(&'static AccountCommand),
    /// A login step.
    Login(&'static LoginAction),
    /// A chat action.
    Chat(&'static ChatAction),
    /// One of the gateway's own.
    Gateway(&'static ActionSpec),
}

/// Every action the gateway accepts, account commands first, then login steps, chat
/// actions and the gateway's own.
pub fn all() -> impl Iterator<Item = Action> {
    let accounts = account::COMMANDS.iter().map(Action::Account);
    let logins = login::ACTIONS.iter().map(Action::Login);
    let chats = chat::ACTIONS.iter().map(Action::Chat);
    accounts
        .chain(logins)
        .chain(chats)
        .chain(GATEWAY_ACTIONS.iter().map(Action::Gateway))
}

/// The action named `name`, if the gateway accepts it.
pub fn find(name: &str) -> Option<Action> {
    all().find(|action| action.name() == name)
}

/// The names of every accepted action, comma-separated.
pub fn names() -> String {
    all().map(|a| a.name()).collect::<Vec<_>>().join(", ")
}

impl Action {
    /// The action's name.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Account(c) => c.name,
            Action::Login(l) => l.name,
            Action::Chat(c) => c.name,
            Action::Gateway(g) => g.name,
        }
    }

    /// The table it comes from.
    pub fn kind(&self) -> Kind {
        match self {
            Action::Account(_) => Kind::Account,
            Action::Login(_) => Kind::Login,
            Action::Chat(_) => Kind::Chat,
            Action::Gateway(_) => Kind::Gateway,
        }
    }

    /// Who may take it.
    pub fn access(&self) -> Access {
        match self {
            Action::Gateway(g) => g.access,
            Action::Account(_) | Action::Login(_) | Action::Chat(_) => Access::Anyone,
        }
    }

    /// Its request fields (besides the envelope).
    pub fn fields(&self) -> &'static [FieldSpec] {
        match self {
            Action::Account(c) => c.fields,
            Action::Login(l) => l.fields,
            Action::Chat(c) => c.takes.fields(),
            Action::Gateway(g) => g.fields,
        }
    }

    /// Whether fields beyond [`Self::fields`] are passed on (to the Bot API), not unknown.
    pub fn passes_more(&self) -> bool {
        matches!(self, Action::Chat(c) if c.takes.passes_more())
    }

    /// The envelope fields it reads (`bot_id` picks the bot of account and chat commands).
    pub fn envelope(&self) -> &'static [&'static str] {
        match self {
            Action::Account(_) | Action::Chat(_) => {
                &["action", "request_id", "userbot_id", "bot_id"]
            }
            Action::Login(_) | Action::Gateway(_) => &["action", "request_id", "userbot_id"],
        }
    }

    /// A warning for each field of `request` the action does not know (none when it passes
    /// more fields on).
    pub fn warnings(&self, request: &Map<String, Value>) -> Vec<String> {
        if self.passes_more() {
            return Vec::new();
        }
        fields::unknown_fields(self.fields(), self.envelope(), request)
    }

    /// Its reference text.
    pub fn doc(&self) -> &'static str {
        match self {
            Action::Account(c) => c.doc,
            Action::Login(l) => l.doc,
            Action::Chat(c) => c.doc,
            Action::Gateway(g) => g.doc,
        }
    }

    /// What a success's `data` holds, in words.
    pub fn success(&self) -> String {
        match self {
            Action::Account(c) => returns_sentence(c.doc),
            Action::Login(_) => "the authorization state the step led to: {state, @type, next?, code_sent_via?, password_hint?, link?}".to_string(),
            Action::Chat(ChatAction {
                method: Method::Confirmed(_),
                ..
            }) => "true, once Telegram confirmed".to_string(),
            Action::Chat(ChatAction {
                method: Method::Field(_),
                ..
            }) => "the method's result, as Telegram answers it".to_string(),
            Action::Chat(c) => format!("Telegram's result of {}", method_name(c)),
            Action::Gateway(g) => g.success.to_string(),
        }
    }

    /// An example of a success's `data`, as JSON text.
    pub fn returns(&self) -> &'static str {
        match self {
            Action::Account(c) => c.returns,
            Action::Login(l) => l.returns,
            Action::Chat(c) => c.returns,
            Action::Gateway(g) => g.returns,
        }
    }

    /// The errors its `<name>_error` event may carry.
    pub fn errors(&self) -> Vec<String> {
        match self {
            Action::Account(_) => vec![
                "userbot_id is required / userbot_id must be an integer / unknown userbot_id N".into(),
                "a validation error in the seed's words (see doc), e.g. `session_id is required`".into(),
                "TDLib's error, with its code (e.g. 401 Unauthorized; 504 when TDLib does not answer)".into(),
            ],
            Action::Login(_) => vec![
                "userbot_id is required / unknown userbot_id N".into(),
                "account N is <state>: <action> is the next step (a step that does not fit the state; nothing is sent)".into(),
                "TDLib's refusal, with its code (e.g. 400 PHONE_CODE_INVALID, 400 PASSWORD_HASH_INVALID)".into(),
                "TDLib did not answer within N ms (code 504; [limits] tdlib_timeout_ms)".into(),
            ],
            Action::Chat(_) => vec![
                "a validation error naming the field, e.g. `user_id must be an integer`".into(),
                "Telegram's refusal, with its code and a hint (e.g. 400 Bad Request: not enough rights)".into(),
            ],
            Action::Gateway(g) => {
                let token =
                    (g.access != Access::Anyone).then(|| super::admin::unauthorized(g.name, g.access).error);
                token
                    .into_iter()
                    .chain(g.errors.iter().map(|e| e.to_string()))
                    .collect()
            }
        }
    }
}

impl Action {
    /// Run this account command, login step or chat action through `effects` with the
    /// fields of `request` (its envelope is not passed on; `userbot_id` picks the account).
    pub fn run_through(
        &self,
        effects: &dyn Effects,
        request: &Map<String, Value>,
    ) -> Result<Value, CommandError> {
        let mut fields = request.clone();
        for envelope in ENVELOPE {
            fields.remove(envelope.name);
        }
        let name = self.name();
        match self {
            Action::Account(command) => {
                command.run(effects, Some(required_userbot_id(name, request)?), &fields)
            }
            Action::Login(step) => step.run(effects, required_userbot_id(name, request)?, &fields),
            Action::Chat(chat) => chat.run(effects, &fields, None),
            Action::Gateway(_) => Err(CommandError::invalid(name, "not a command")),
        }
    }

    /// Whether the action runs on a bot where the process runs bots (`bot_id` picks it).
    pub fn runs_on_a_bot(&self) -> bool {
        match self {
            Action::Account(_) | Action::Chat(_) => true,
            Action::Gateway(spec) => matches!(spec.run, Run::OnBot(..)),
            Action::Login(_) => false,
        }
    }

    /// Which bot it is about, when it runs on one.
    pub fn which_bot(&self) -> WhichBot {
        match self {
            Action::Gateway(ActionSpec {
                run: Run::OnBot(which, _),
                ..
            }) => *which,
            _ => WhichBot::OnlyOrNamed,
        }
    }

    /// Run it on `bot`, which runs here, for a client of tenant `scope` when given: only
    /// when `bot` is the tenant's, and then checked as its scenarios' effects are (the
    /// tenant's accounts only). The asking instance has chosen a bot of the tenant already:
    /// this holds even if it has not.
    pub fn run_on_bot(
        &self,
        bot: &BotScope,
        scope: Option<&str>,
        request: &Map<String, Value>,
    ) -> Result<Value, CommandError> {
        let name = self.name();
        if let Some(tenant) = scope
            && bot.tenant() != Some(tenant)
        {
            return Err(CommandError::invalid(
                name,
                format!("no bot {:?} of tenant {tenant:?} runs here", bot.id),
            ));
        }
        match self {
            Action::Gateway(ActionSpec {
                run: Run::OnBot(_, run),
                ..
            }) => run(bot, name, request),
            Action::Gateway(_) | Action::Login(_) => {
                Err(CommandError::invalid(name, "not an action on a bot"))
            }
            Action::Account(_) | Action::Chat(_) => {
                let effects: Arc<dyn Effects> = match scope {
                    Some(tenant) => {
                        // A client reaches the accounts its tenant owns, not the unowned ones
                        // the tenant's scenarios may use while it is the only one served.
                        if let Some(id) = request.get("userbot_id").and_then(crate::request::as_int)
                            && bot.host.accounts().owner(id).as_deref() != Some(tenant)
                        {
                            return Err(CommandError {
                                code: Some(403),
                                ..CommandError::invalid(
                                    name,
                                    crate::accounts::AccountsError::NotOwned {
                                        id,
                                        tenant: tenant.to_string(),
                                    }
                                    .to_string(),
                                )
                            });
                        }
                        Checked::around(bot.host.clone())
                    }
                    None => bot.host.clone(),
                };
                self.run_through(&*effects, request)
            }
        }
    }
}

/// The string field `key` of `request`, required and not empty.
pub(super) fn text(
    command: &str,
    request: &Map<String, Value>,
    key: &str,
) -> Result<String, CommandError> {
    match request.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) | None => {
            Err(CommandError::invalid(command, format!("{key} is required")))
        }
        Some(_) => Err(CommandError::invalid(
            command,
            format!("{key} must be a string"),
        )),
    }
}

/// The Bot API method of a chat action that always calls the same one.
fn method_name(action: &ChatAction) -> &'static str {
    match action.method {
        Method::Fixed(m) | Method::Confirmed(m) => m,
        Method::Field(field) => field,
    }
}

/// What `doc` says a command returns (its `Returns …` sentence, else its first paragraph),
/// on one line.
fn returns_sentence(doc: &str) -> String {
    let text = match doc.find("Returns ") {
        Some(at) => {
            let rest = &doc[at..];
            let end = rest
                .find(". ")
                .or_else(|| rest.find(".\n"))
                .map_or(rest.len(), |e| e + 1);
            &rest[..end]
        }
        None => doc.trim().split("\n\n").next().unwrap_or_default(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
