//! `tgscript serve [--listen ADDR]`: the JSON command gateway.

use crate::app::{App, AppError, SandboxAccount, Wiring, gateway_settings};
use crate::config::Config;

pub(super) fn serve(config: &Config, listen: Option<String>) -> anyhow::Result<u8> {
    let settings = gateway_settings(config, listen.as_deref())?;
    let app = App::build(
        config,
        Wiring {
            sandbox_bot: false,
            sandbox_account: SandboxAccount::Always,
            verify_token: false,
            claim_store: false,
        },
    )?;
    let runner = app.runner(&config.scripts.dir)?;
    let gateway = app.gateway(runner, &settings)?;
    tracing::info!("accounts {:?}", app.host().accounts().ids());
    let served = app.block_on(async {
        tokio::spawn(crate::accounts::open::warn_not_logged_in(
            app.host().accounts().clone(),
        ));
        let listener = crate::gateway::listen(&settings)
            .await
            .map_err(|e| AppError::Failed(e.to_string()))?;
        tokio::spawn(crate::app::systemd::beat());
        crate::app::systemd::ready();
        let stop = async {
            crate::app::bot::stop_requested().await;
            crate::app::systemd::stopping();
        };
        crate::gateway::serve(listener, gateway, stop).await;
        Ok::<(), AppError>(())
    });
    app.close();
    served?;
    Ok(0)
}
