//! The bots added through the gateway, kept in the store: started with the others, and in a
//! cluster followed as any instance adds or removes one (each tells the others).

use super::Fleet;
use crate::app::bots::BotSource;
use crate::store::SavedBot;

impl Fleet<'_> {
    /// The bots the store keeps (an error is logged: none then).
    fn saved(&self) -> Option<Vec<SavedBot>> {
        match self.app.host().store().saved_bots() {
            Ok(saved) => Some(saved),
            Err(e) => {
                tracing::error!("cannot read the bots added through the gateway: {e}");
                None
            }
        }
    }

    /// Start the bots added through the gateway (kept in the database) that are not in the
    /// set yet.
    pub(super) async fn start_saved(&mut self) {
        for bot in self.saved().unwrap_or_default() {
            self.start_one_saved(&bot).await;
        }
    }

    /// Start `bot` unless the set has it already.
    async fn start_one_saved(&mut self, bot: &SavedBot) {
        if self.has(&bot.id) {
            if self.source(&bot.id) != Some(BotSource::Gateway) {
                tracing::warn!(
                    "bot {} was added through the gateway and is in the config too: the config's runs",
                    bot.id
                );
            }
            return;
        }
        let started = match self.app.bot_from_saved(bot) {
            Ok(setup) => self.start(setup).await,
            Err(e) => Err(e),
        };
        if let Err(e) = started {
            tracing::error!(
                "bot {} (added through the gateway): cannot start: {e}",
                bot.id
            );
        }
    }

    /// Tell the cluster's other instances that a bot was added or removed over the gateway.
    pub(super) async fn tell_bots_changed(&self) {
        if let Some(seat) = &self.seat {
            seat.tell_bots_changed().await;
        }
    }

    /// Make the cluster's bots added through the gateway those the store keeps now (another
    /// instance added or removed one): start the new, stop the removed.
    pub(super) async fn follow_saved(&mut self) {
        let (Some(seat), Some(saved)) = (&self.seat, self.saved()) else {
            return;
        };
        let removed: Vec<String> = seat
            .sources()
            .filter(|(_, source)| **source == BotSource::Gateway)
            .filter(|(id, _)| !saved.iter().any(|bot| bot.id == **id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in removed {
            self.stop(&id).await;
            tracing::info!("bot {id}: removed through the gateway of another instance");
        }
        for bot in &saved {
            self.start_one_saved(bot).await;
        }
    }
}
