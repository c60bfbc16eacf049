//! Logging accounts in and out, one step per action ([`ACTIONS`]): `login_start`,
//! `login_code`, `login_password`, `login_email_address`, `login_email_code`, `login_qr`,
//! `logout` and `get_authorization_state`. Each answers the state the step led to
//! ([`crate::accounts::AuthState::to_json`]). They are gateway actions only: no builtin takes
//! a code or a password, and no log or event shows one.

use super::FieldSpec;
use crate::accounts::LoginStep;
use crate::effects::Effects;
use crate::request::{CommandError, Fields};
use serde_json::{Map, Value};

/// One login action.
pub struct LoginAction {
    /// The gateway action's name.
    pub name: &'static str,
    /// Its reference text.
    pub doc: &'static str,
    /// Its request fields (besides the envelope, `userbot_id` required).
    pub fields: &'static [FieldSpec],
    /// An example of the state it answers, as JSON text.
    pub returns: &'static str,
    /// The step a request asks for (`None`: read the state only).
    pub step: fn(&Fields) -> Result<Option<LoginStep>, CommandError>,
}

impl super::Named for LoginAction {
    fn name(&self) -> &'static str {
        self.name
    }
}

/// A required, non-empty string field, as given (a password may begin or end with spaces).
fn text(f: &Fields, key: &str) -> Result<String, CommandError> {
    match f.opt_str(key)? {
        Some(value) if !value.is_empty() => Ok(value.to_string()),
        _ => Err(f.error(format!("{key} is required"))),
    }
}

/// The login actions.
pub const ACTIONS: &[LoginAction] = &[
    LoginAction {
        name: "login_start",
        doc: "Start logging in with `phone` (international format; default: the phone given to \
              add_account or [[account]]). Answers wait_code (with `code_sent_via`).",
        fields: &[FieldSpec::optional(
            "phone",
            "string",
            "the phone number, international format (never logged)",
        )
        .or(r#""the account's phone""#)
        .eg(r#""+15550001234""#)],
        returns: r#"{"state": "wait_code", "@type": "authorizationStateWaitCode", "next": "login_code", "code_sent_via": "sms"}"#,
        step: |f| {
            let phone = f.opt_str("phone")?.unwrap_or_default().trim().to_string();
            Ok(Some(LoginStep::Phone(phone)))
        },
    },
    LoginAction {
        name: "login_code",
        doc: "The `code` Telegram sent. Answers wait_password (two-step verification) or ready; a \
              wrong code is TDLib's 400 PHONE_CODE_INVALID.",
        fields: &[FieldSpec::required(
            "code",
            "string",
            r#""12345""#,
            "the login code (never logged)",
        )],
        returns: r#"{"state": "wait_password", "@type": "authorizationStateWaitPassword", "next": "login_password", "password_hint": "my hint"}"#,
        step: |f| Ok(Some(LoginStep::Code(text(f, "code")?))),
    },
    LoginAction {
        name: "login_password",
        doc: "The two-step verification `password`. Answers ready; a wrong one is TDLib's 400 \
              PASSWORD_HASH_INVALID.",
        fields: &[FieldSpec::required(
            "password",
            "string",
            r#""correct horse""#,
            "the two-step verification password (never logged)",
        )],
        returns: r#"{"state": "ready", "@type": "authorizationStateReady"}"#,
        step: |f| Ok(Some(LoginStep::Password(text(f, "password")?))),
    },
    LoginAction {
        name: "login_email_address",
        doc: "The `email_address` TDLib asks for (wait_email_address). Answers wait_email_code.",
        fields: &[FieldSpec::required(
            "email_address",
            "string",
            r#""me@example.com""#,
            "the email address TDLib asks for",
        )],
        returns: r#"{"state": "wait_email_code", "@type": "authorizationStateWaitEmailCode", "next": "login_email_code"}"#,
        step: |f| Ok(Some(LoginStep::EmailAddress(text(f, "email_address")?))),
    },
    LoginAction {
        name: "login_email_code",
        doc: "The `code` sent to the email address (wait_email_code). Answers the next state.",
        fields: &[FieldSpec::required(
            "code",
            "string",
            r#""123456""#,
            "the code sent to the email address (never logged)",
        )],
        returns: r#"{"state": "ready", "@type": "authorizationStateReady"}"#,
        step: |f| Ok(Some(LoginStep::EmailCode(text(f, "code")?))),
    },
    LoginAction {
        name: "login_qr",
        doc: "Log in by QR code instead: answers wait_other_device_confirmation with `link` \
              (tg://login?token=…); open it in a logged-in app (Settings → Devices → Link \
              Desktop Device), and authorization_state ready follows as an event.",
        fields: &[],
        returns: r#"{"state": "wait_other_device_confirmation", "@type": "authorizationStateWaitOtherDeviceConfirmation", "link": "tg://login?token=AQAB..."}"#,
        step: |_| Ok(Some(LoginStep::Qr)),
    },
    LoginAction {
        name: "logout",
        doc: "Log the account out (TDLib deletes its session); answers wait_phone_number once a \
              fresh client is up.",
        fields: &[],
        returns: r#"{"state": "wait_phone_number", "@type": "authorizationStateWaitPhoneNumber", "next": "login_start"}"#,
        step: |_| Ok(Some(LoginStep::Logout)),
    },
    LoginAction {
        name: "get_authorization_state",
        doc: "Where the account stands: `{state, @type, next?, code_sent_via?, password_hint?, \
              link?}`.",
        fields: &[],
        returns: r#"{"state": "ready", "@type": "authorizationStateReady"}"#,
        step: |_| Ok(None),
    },
];

impl LoginAction {
    /// Take this login step on account `userbot_id` with the fields of `request`. Only the
    /// gateway calls it: `command(...)` in scripts runs account commands and chat actions,
    /// never a login step.
    pub fn run(
        &self,
        effects: &dyn Effects,
        userbot_id: i64,
        request: &Map<String, Value>,
    ) -> Result<Value, CommandError> {
        let step = (self.step)(&Fields::new(self.name, request))?;
        let userbot_id = effects.account_id(self.name, Some(userbot_id))?;
        let state = effects.login(self.name, userbot_id, step)?;
        Ok(state.to_json())
    }
}
