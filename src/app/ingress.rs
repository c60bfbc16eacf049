//! A cluster's webhook bot on its owner: its deliveries, written to the cluster's stream by
//! whichever instance got them, are taken from its feed, kept in its inbox, acknowledged to
//! the stream only then, and handed to its dispatcher; the feed is left between two takes
//! when the bot stops, so nothing taken is dropped.

use super::status::BotStatus;
use crate::cluster::ingress::Feed;
use crate::inbox::{Inbox, Origin};
use crate::scenario::dispatch::Dispatcher;
use std::time::Duration;
use tokio::sync::watch::Receiver;

/// The wait before taking again after the stream failed.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// What of a bot takes its updates from the stream.
pub(super) struct Taker<'a> {
    pub(super) id: &'a str,
    pub(super) inbox: Option<&'a std::sync::Arc<Inbox>>,
    pub(super) dispatcher: &'a Dispatcher,
    pub(super) status: &'a BotStatus,
}

/// Take the updates of `bot` from `feed` until `stop`.
pub(super) async fn consume(bot: Taker<'_>, feed: Feed, mut stop: Receiver<bool>) {
    let mut failing = false;
    tokio::select! {
        () = feed.wait_for_earlier_takers() => {}
        _ = stop.wait_for(|s| *s) => return,
    }
    while !*stop.borrow() {
        let taken = match feed.take().await {
            Ok(taken) => taken,
            Err(e) => {
                if !failing {
                    tracing::warn!("bot {}: cannot take webhook updates: {e}; retrying", bot.id);
                }
                failing = true;
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
        };
        failing = false;
        if taken.updates.is_empty() {
            taken.acknowledge().await;
            continue;
        }
        let fresh = match bot.inbox {
            None => Ok(taken.updates.clone()),
            Some(inbox) => {
                let (inbox, batch) = (inbox.clone(), taken.updates.clone());
                tokio::task::spawn_blocking(move || inbox.accept(&batch))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|kept| kept.map_err(|e| e.to_string()))
            }
        };
        match fresh {
            Ok(fresh) => {
                bot.status.ok();
                taken.acknowledge().await;
                fresh
                    .into_iter()
                    .for_each(|update| bot.dispatcher.dispatch(update, Origin::Fetched));
            }
            Err(e) => {
                tracing::error!(
                    "bot {}: cannot keep {} webhook update(s) in the inbox ({e}); the stream gives them again",
                    bot.id,
                    taken.updates.len()
                );
                taken.refuse().await;
                tokio::time::sleep(RETRY_AFTER).await;
            }
        }
    }
}
