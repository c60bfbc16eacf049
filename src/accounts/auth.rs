//! Where an account stands in TDLib's login ([`AuthState`], one per TDLib authorization
//! state) and the steps that move it on ([`LoginStep`]). Codes and passwords never show in
//! `Debug`, logs or events.

use serde_json::{Value, json};

/// An account's authorization state, after TDLib's `authorizationState*`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AuthState {
    /// The client is starting (before TDLib's first state).
    Starting,
    /// `authorizationStateWaitPhoneNumber`: `login_start` (or `login_qr`) next.
    WaitPhoneNumber,
    /// `authorizationStateWaitCode`: the code was sent `via` (e.g. "sms"); `login_code` next.
    WaitCode {
        /// How the code was sent.
        via: String,
    },
    /// `authorizationStateWaitPassword` (two-step verification): `login_password` next.
    WaitPassword {
        /// The password's hint, if the owner set one.
        hint: String,
    },
    /// `authorizationStateWaitEmailAddress`: `login_email_address` next.
    WaitEmailAddress,
    /// `authorizationStateWaitEmailCode`: `login_email_code` next.
    WaitEmailCode,
    /// `authorizationStateWaitOtherDeviceConfirmation`: open `link` in a logged-in app.
    WaitOtherDevice {
        /// The `tg://login?token=…` link to confirm.
        link: String,
    },
    /// `authorizationStateWaitRegistration`: the number has no account; register in an app.
    WaitRegistration,
    /// `authorizationStateWaitPremiumPurchase`: Telegram asks for Premium first.
    WaitPremiumPurchase,
    /// `authorizationStateReady`: logged in.
    Ready,
    /// `authorizationStateLoggingOut`
    LoggingOut,
    /// `authorizationStateClosing`
    Closing,
    /// `authorizationStateClosed`: the client is gone (after `logout`, a new one starts).
    Closed,
    /// The client could not start, with why.
    Failed(String),
}

impl AuthState {
    /// Every state's name, as [`AuthState::name`] gives it (for the protocol reference).
    pub const NAMES: &[&str] = &[
        "starting",
        "wait_phone_number",
        "wait_code",
        "wait_password",
        "wait_email_address",
        "wait_email_code",
        "wait_other_device_confirmation",
        "wait_registration",
        "wait_premium_purchase",
        "ready",
        "logging_out",
        "closing",
        "closed",
        "failed",
    ];

    /// The state's name in events: `wait_code`, `ready`, …
    pub fn name(&self) -> &'static str {
        match self {
            AuthState::Starting => "starting",
            AuthState::WaitPhoneNumber => "wait_phone_number",
            AuthState::WaitCode { .. } => "wait_code",
            AuthState::WaitPassword { .. } => "wait_password",
            AuthState::WaitEmailAddress => "wait_email_address",
            AuthState::WaitEmailCode => "wait_email_code",
            AuthState::WaitOtherDevice { .. } => "wait_other_device_confirmation",
            AuthState::WaitRegistration => "wait_registration",
            AuthState::WaitPremiumPurchase => "wait_premium_purchase",
            AuthState::Ready => "ready",
            AuthState::LoggingOut => "logging_out",
            AuthState::Closing => "closing",
            AuthState::Closed => "closed",
            AuthState::Failed(_) => "failed",
        }
    }

    /// TDLib's type name of the state (`authorizationStateWaitCode`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            AuthState::Starting | AuthState::Failed(_) => "authorizationStateWaitTdlibParameters",
            AuthState::WaitPhoneNumber => "authorizationStateWaitPhoneNumber",
            AuthState::WaitCode { .. } => "authorizationStateWaitCode",
            AuthState::WaitPassword { .. } => "authorizationStateWaitPassword",
            AuthState::WaitEmailAddress => "authorizationStateWaitEmailAddress",
            AuthState::WaitEmailCode => "authorizationStateWaitEmailCode",
            AuthState::WaitOtherDevice { .. } => "authorizationStateWaitOtherDeviceConfirmation",
            AuthState::WaitRegistration => "authorizationStateWaitRegistration",
            AuthState::WaitPremiumPurchase => "authorizationStateWaitPremiumPurchase",
            AuthState::Ready => "authorizationStateReady",
            AuthState::LoggingOut => "authorizationStateLoggingOut",
            AuthState::Closing => "authorizationStateClosing",
            AuthState::Closed => "authorizationStateClosed",
        }
    }

    /// The gateway action that moves the account on from here, if one does.
    pub fn next_action(&self) -> Option<&'static str> {
        match self {
            AuthState::WaitPhoneNumber => Some("login_start"),
            AuthState::WaitCode { .. } => Some("login_code"),
            AuthState::WaitPassword { .. } => Some("login_password"),
            AuthState::WaitEmailAddress => Some("login_email_address"),
            AuthState::WaitEmailCode => Some("login_email_code"),
            _ => None,
        }
    }

    /// Whether the client has left [`AuthState::Starting`].
    pub fn settled(&self) -> bool {
        !matches!(self, AuthState::Starting)
    }

    /// The state as event data: `{state, "@type", next?, code_sent_via?, password_hint?,
    /// link?, error?}`.
    pub fn to_json(&self) -> Value {
        let mut data = json!({"state": self.name(), "@type": self.type_name()});
        if let Some(next) = self.next_action() {
            data["next"] = json!(next);
        }
        match self {
            AuthState::WaitCode { via } => data["code_sent_via"] = json!(via),
            AuthState::WaitPassword { hint } => data["password_hint"] = json!(hint),
            AuthState::WaitOtherDevice { link } => data["link"] = json!(link),
            AuthState::Failed(why) => data["error"] = json!(why),
            _ => {}
        }
        data
    }

    /// The state as a TDLib update (`updateAuthorizationState`), as accounts publish it.
    pub fn to_update(&self) -> Value {
        json!({"@type": UPDATE_AUTHORIZATION_STATE, "authorization_state": self.to_json()})
    }

    /// In words, for `account status` and the start-up warning.
    pub fn describe(&self) -> String {
        match self {
            AuthState::Starting => "starting".into(),
            AuthState::WaitPhoneNumber => "waiting for the phone number".into(),
            AuthState::WaitCode { via } => format!("waiting for the code (sent via {via})"),
            AuthState::WaitPassword { .. } => "waiting for the password".into(),
            AuthState::WaitEmailAddress => "waiting for the email address".into(),
            AuthState::WaitEmailCode => "waiting for the email code".into(),
            AuthState::WaitOtherDevice { .. } => {
                "waiting for the QR link to be confirmed on another device".into()
            }
            AuthState::WaitRegistration => {
                "waiting for registration (the number has no account: register in an official app first)".into()
            }
            AuthState::WaitPremiumPurchase => {
                "waiting for a Telegram Premium purchase (finish it in an official app)".into()
            }
            AuthState::Ready => "ready".into(),
            AuthState::LoggingOut => "logging out".into(),
            AuthState::Closing => "closing".into(),
            AuthState::Closed => "closed".into(),
            AuthState::Failed(why) => format!("failed: {why}"),
        }
    }
}

/// TDLib's update type for authorization state changes.
pub const UPDATE_AUTHORIZATION_STATE: &str = "updateAuthorizationState";
/// TDLib's update type for a new login waiting for confirmation (`session` null: none now).
pub const UPDATE_UNCONFIRMED_SESSION: &str = "updateUnconfirmedSession";

/// TDLib's update type for the connection to Telegram (`connectionStateConnecting`, …).
pub const UPDATE_CONNECTION_STATE: &str = "updateConnectionState";

/// The error of `login_start` without a phone where the account has none either.
pub const NO_PHONE: &str =
    "phone is required (or give the account one: add_account's phone, [[account]] phone)";

/// One step of logging in (or out), as the gateway actions and `account login` take them
/// (serialized only to reach the instance of a cluster that runs the account).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LoginStep {
    /// `setAuthenticationPhoneNumber`
    Phone(String),
    /// `checkAuthenticationCode`
    Code(String),
    /// `checkAuthenticationPassword`
    Password(String),
    /// `setAuthenticationEmailAddress`
    EmailAddress(String),
    /// `checkAuthenticationEmailCode`
    EmailCode(String),
    /// `requestQrCodeAuthentication`
    Qr,
    /// `logOut`
    Logout,
}

impl LoginStep {
    /// The TDLib function the step calls.
    pub fn function(&self) -> &'static str {
        match self {
            LoginStep::Phone(_) => "setAuthenticationPhoneNumber",
            LoginStep::Code(_) => "checkAuthenticationCode",
            LoginStep::Password(_) => "checkAuthenticationPassword",
            LoginStep::EmailAddress(_) => "setAuthenticationEmailAddress",
            LoginStep::EmailCode(_) => "checkAuthenticationEmailCode",
            LoginStep::Qr => "requestQrCodeAuthentication",
            LoginStep::Logout => "logOut",
        }
    }

    /// Whether TDLib takes the step in `state` (else the step is refused before any call).
    pub fn fits(&self, state: &AuthState) -> bool {
        // TDLib takes a (new) phone number or a QR request while any login is under way.
        let restart = matches!(
            state,
            AuthState::WaitPhoneNumber
                | AuthState::WaitCode { .. }
                | AuthState::WaitPassword { .. }
                | AuthState::WaitEmailAddress
                | AuthState::WaitEmailCode
                | AuthState::WaitRegistration
                | AuthState::WaitOtherDevice { .. }
        );
        match self {
            LoginStep::Phone(_) | LoginStep::Qr => restart,
            LoginStep::Code(_) => matches!(state, AuthState::WaitCode { .. }),
            LoginStep::Password(_) => matches!(state, AuthState::WaitPassword { .. }),
            LoginStep::EmailAddress(_) => matches!(state, AuthState::WaitEmailAddress),
            LoginStep::EmailCode(_) => matches!(state, AuthState::WaitEmailCode),
            LoginStep::Logout => !matches!(
                state,
                AuthState::LoggingOut | AuthState::Closing | AuthState::Closed
            ),
        }
    }
}

/// Shows the step's kind only: never the number, code or password it carries.
impl std::fmt::Debug for LoginStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.function())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_shows_no_secret() {
        let step = LoginStep::Password("hunter2".into());
        assert_eq!(format!("{step:?}"), "checkAuthenticationPassword");
        assert!(!format!("{:?}", LoginStep::Code("12345".into())).contains("12345"));
    }

    #[test]
    fn every_waiting_state_names_its_step_and_the_step_fits_it() {
        let states = [
            AuthState::WaitPhoneNumber,
            AuthState::WaitCode { via: "sms".into() },
            AuthState::WaitPassword {
                hint: String::new(),
            },
            AuthState::WaitEmailAddress,
            AuthState::WaitEmailCode,
        ];
        let steps = [
            LoginStep::Phone("+1".into()),
            LoginStep::Code("1".into()),
            LoginStep::Password("p".into()),
            LoginStep::EmailAddress("a@b".into()),
            LoginStep::EmailCode("1".into()),
        ];
        for (state, step) in states.iter().zip(&steps) {
            assert!(state.next_action().is_some(), "{state:?}");
            assert!(step.fits(state), "{step:?} in {state:?}");
            assert_eq!(state.to_json()["next"], json!(state.next_action()));
        }
        assert!(!LoginStep::Code("1".into()).fits(&AuthState::Ready));
    }

    #[test]
    fn every_state_is_named_in_the_list_the_reference_shows() {
        let all = [
            AuthState::Starting,
            AuthState::WaitPhoneNumber,
            AuthState::WaitCode { via: String::new() },
            AuthState::WaitPassword {
                hint: String::new(),
            },
            AuthState::WaitEmailAddress,
            AuthState::WaitEmailCode,
            AuthState::WaitOtherDevice {
                link: String::new(),
            },
            AuthState::WaitRegistration,
            AuthState::WaitPremiumPurchase,
            AuthState::Ready,
            AuthState::LoggingOut,
            AuthState::Closing,
            AuthState::Closed,
            AuthState::Failed(String::new()),
        ];
        let names: Vec<&str> = all.iter().map(AuthState::name).collect();
        assert_eq!(names, AuthState::NAMES);
    }
}
