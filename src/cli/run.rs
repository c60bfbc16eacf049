//! `tgscript run [DIR]`: the bots of `[[bot]]`, else the one of `TELOXIDE_TOKEN`, else the
//! sandbox: a local Bot API server with a simulated group, fed from stdin.

use super::usage;
use crate::app::{App, SandboxAccount, Wiring, fleet};
use crate::config::Config;
use std::path::PathBuf;

/// Arguments of `run`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Sandbox input (no TELOXIDE_TOKEN): each line is a message from alice; \
`/as NAME text` speaks as NAME (`owner` owns the group), `/join NAME` joins the group, \
`/reply ID text` replies to message #ID, `/press DATA` presses a button under the newest bot \
message with buttons. `/login_from PLACE` logs in to the sandbox account from a new device, \
`/confirm_qr` confirms its QR login. Every Bot API call is printed as `→ method {json}`. End of input stops."
)]
pub struct RunArgs {
    /// Scenario folder (default: [scripts] dir, `scripts`).
    pub dir: Option<PathBuf>,
}

pub(super) fn run(config: &Config, args: RunArgs) -> anyhow::Result<u8> {
    if !config.bots.is_empty() && args.dir.is_some() {
        return Err(usage(
            "the config has [[bot]]s, each with its own scenario folder (scripts = \"…\"): run without a folder",
        ));
    }
    let dir = args.dir.unwrap_or_else(|| config.scripts.dir.clone());
    if config.bots.is_empty() && !dir.is_dir() {
        return Err(usage(format!(
            "scenario folder {} not found (pass a folder or set [scripts] dir)",
            dir.display()
        )));
    }
    if let Some(bot) = config.bots.iter().find(|b| !b.scripts.is_dir()) {
        return Err(usage(format!(
            "bot {:?}: scenario folder {} not found (set its scripts = \"…\")",
            bot.id,
            bot.scripts.display()
        )));
    }
    let app = App::build(
        config,
        Wiring {
            sandbox_bot: true,
            sandbox_account: SandboxAccount::WithSandboxBot,
            verify_token: true,
            claim_store: true,
        },
    )?;
    let ran = app.block_on(fleet::run(&app, &dir));
    app.close();
    ran?;
    Ok(0)
}
