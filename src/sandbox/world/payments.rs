//! Payments in the sandbox: the bot's invoices, a sandbox user paying one (for a flexible
//! invoice first a `shipping_query` to a sandbox address, and the first shipping option the
//! bot offers taken; then a `pre_checkout_query`, then — once the bot says yes — a message
//! with `successful_payment`),
//! refunds and cancelled subscriptions of Stars, the bot's Star transactions, paid media.
//! Nobody is charged: every payment succeeds once the bot answers yes.

use super::{BOT_ID, Refusal, World};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};

/// What the sandbox knows of payments.
#[derive(Debug, Default)]
pub struct Payments {
    /// The invoices sent, by chat and message id.
    invoices: BTreeMap<(i64, i64), Invoice>,
    /// Pre-checkout queries asked and not answered yet, by id.
    asked: HashMap<String, Checkout>,
    /// Shipping queries asked and not answered yet, by id.
    shipping: HashMap<String, Checkout>,
    /// The payments made, by `telegram_payment_charge_id`, in order.
    charges: BTreeMap<String, Charge>,
    /// Numbers for query ids, charge ids and invoice links.
    made: u64,
}

/// An invoice's terms.
#[derive(Debug, Clone)]
struct Invoice {
    currency: String,
    total_amount: i64,
    payload: String,
    subscription: bool,
    /// The price depends on the shipping (`is_flexible`; never for Stars).
    flexible: bool,
}

/// A pre-checkout query on its way: who pays what, where, shipped how.
#[derive(Debug, Clone)]
struct Checkout {
    chat: i64,
    user: i64,
    invoice: Invoice,
    /// The shipping option taken, for a flexible invoice.
    shipping_option: Option<String>,
}

/// Where sandbox users have things shipped.
const ADDRESS: &str = r#"{"country_code": "DE", "state": "", "city": "Berlin",
    "street_line1": "Sandboxstraße 1", "street_line2": "", "post_code": "10115"}"#;

/// A payment made.
#[derive(Debug, Clone)]
struct Charge {
    user: i64,
    currency: String,
    amount: i64,
    date: i64,
    refunded: bool,
    canceled: bool,
}

impl Payments {
    /// A new number for an id.
    fn next(&mut self) -> u64 {
        self.made += 1;
        self.made
    }
}

/// An invoice's terms from `sendInvoice`'s or `createInvoiceLink`'s parameters.
fn terms(params: &Map<String, Value>) -> Result<Invoice, Refusal> {
    let prices = params
        .get("prices")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| Refusal::bad_request("CURRENCY_TOTAL_AMOUNT_INVALID"))?;
    let total_amount = prices
        .iter()
        .map(|p| p["amount"].as_i64().unwrap_or(0))
        .sum();
    let text = |key: &str| params.get(key).and_then(Value::as_str).unwrap_or_default();
    if text("title").is_empty() || text("description").is_empty() || text("payload").is_empty() {
        return Err(Refusal::bad_request("INVOICE_PAYLOAD_INVALID"));
    }
    let currency = text("currency");
    Ok(Invoice {
        currency: currency.to_string(),
        total_amount,
        payload: text("payload").to_string(),
        subscription: params.get("subscription_period").is_some(),
        flexible: params.get("is_flexible").and_then(Value::as_bool) == Some(true)
            && currency != crate::commands::chat::STARS,
    })
}

impl World {
    /// `sendInvoice`: the invoice as a message of the bot.
    pub(super) fn send_invoice(&mut self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let chat = self.chat(params)?.id;
        let invoice = terms(params)?;
        let text = |key: &str| params.get(key).cloned().unwrap_or_default();
        let mut content = Map::new();
        content.insert(
            "invoice".into(),
            json!({
                "title": text("title"), "description": text("description"),
                "start_parameter": params.get("start_parameter").cloned().unwrap_or_else(|| "".into()),
                "currency": invoice.currency, "total_amount": invoice.total_amount,
            }),
        );
        if let Some(markup) = params.get("reply_markup") {
            content.insert("reply_markup".into(), markup.clone());
        }
        let message = self.store_message(chat, BOT_ID, content, None);
        if let Some(id) = message["message_id"].as_i64() {
            self.payments.invoices.insert((chat, id), invoice);
        }
        Ok(message)
    }

    /// `createInvoiceLink`: a link (that sandbox users cannot open).
    pub(super) fn create_invoice_link(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        terms(params)?;
        let n = self.payments.next();
        Ok(format!("https://t.me/$sandbox_invoice_{n}").into())
    }

    /// `sendPaidMedia`: a message whose media are behind a price in Stars.
    pub(super) fn send_paid_media(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let chat = self.chat(params)?.id;
        let stars = params.get("star_count").and_then(Value::as_i64);
        let media = params.get("media").and_then(Value::as_array);
        let (Some(stars), Some(media)) = (stars, media) else {
            return Err(Refusal::bad_request("MEDIA_EMPTY"));
        };
        let previews: Vec<Value> = media.iter().map(|_| json!({"type": "preview"})).collect();
        let mut content = Map::new();
        content.insert(
            "paid_media".into(),
            json!({"star_count": stars, "paid_media": previews}),
        );
        if let Some(caption) = params.get("caption") {
            content.insert("caption".into(), caption.clone());
        }
        Ok(self.store_message(chat, BOT_ID, content, None))
    }

    /// `user` pays the invoice `message` of `chat` (the newest invoice there when `None`):
    /// Telegram's `pre_checkout_query` is queued; returns the invoice's message id.
    pub fn pay(&mut self, chat: i64, user: i64, message: Option<i64>) -> Result<i64, String> {
        let found = match message {
            Some(id) => self
                .payments
                .invoices
                .get(&(chat, id))
                .map(|invoice| (id, invoice.clone()))
                .ok_or_else(|| format!("message #{id} is not an invoice of this chat")),
            None => self
                .payments
                .invoices
                .range((chat, i64::MIN)..=(chat, i64::MAX))
                .next_back()
                .map(|((_, id), invoice)| (*id, invoice.clone()))
                .ok_or_else(|| {
                    "there is no invoice to pay here (the bot sends one with send_invoice)"
                        .to_string()
                }),
        };
        let (id, invoice) = found?;
        if self.message(chat, id).is_none() {
            return Err(format!("invoice #{id} was deleted"));
        }
        let query = format!("{}", 7_000_000 + self.payments.next());
        let checkout = Checkout {
            chat,
            user,
            invoice,
            shipping_option: None,
        };
        if checkout.invoice.flexible {
            let address: Value = serde_json::from_str(ADDRESS).unwrap_or_default();
            self.push_update(json!({"shipping_query": {
                "id": query, "from": self.user_json(user),
                "invoice_payload": checkout.invoice.payload, "shipping_address": address,
            }}));
            self.payments.shipping.insert(query, checkout);
        } else {
            self.ask_pre_checkout(query, checkout);
        }
        Ok(id)
    }

    /// Queue the `pre_checkout_query` `id` of `checkout`.
    fn ask_pre_checkout(&mut self, id: String, checkout: Checkout) {
        let invoice = &checkout.invoice;
        let mut query = json!({
            "id": id, "from": self.user_json(checkout.user), "currency": invoice.currency,
            "total_amount": invoice.total_amount, "invoice_payload": invoice.payload,
        });
        if let Some(option) = &checkout.shipping_option {
            query["shipping_option_id"] = option.clone().into();
            query["order_info"] = json!({"shipping_address": serde_json::from_str::<Value>(ADDRESS).unwrap_or_default()});
        }
        self.push_update(json!({ "pre_checkout_query": query }));
        self.payments.asked.insert(id, checkout);
    }

    /// `answerPreCheckoutQuery`: yes charges the user (a message with `successful_payment`
    /// comes from them), no tells them why.
    pub(super) fn answer_pre_checkout_query(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let id = params
            .get("pre_checkout_query_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let ok = params.get("ok").and_then(Value::as_bool).unwrap_or(false);
        let reason = params.get("error_message").and_then(Value::as_str);
        if !ok && reason.is_none_or(str::is_empty) {
            return Err(Refusal::bad_request("ERROR_MESSAGE_EMPTY"));
        }
        let checkout = self
            .payments
            .asked
            .remove(id)
            .ok_or_else(|| Refusal::bad_request("QUERY_ID_INVALID"))?;
        if ok {
            let charge = format!("sandbox_charge_{}", self.payments.next());
            let invoice = &checkout.invoice;
            let mut paid = json!({
                "currency": invoice.currency, "total_amount": invoice.total_amount,
                "invoice_payload": invoice.payload, "telegram_payment_charge_id": charge,
                "provider_payment_charge_id": "",
            });
            if let Some(option) = &checkout.shipping_option {
                paid["shipping_option_id"] = option.clone().into();
            }
            if invoice.subscription {
                paid["subscription_expiration_date"] = (self.now() + 2_592_000).into();
                paid["is_first_recurring"] = true.into();
            }
            let mut content = Map::new();
            content.insert("successful_payment".into(), paid);
            let message = self.store_message(checkout.chat, checkout.user, content, None);
            self.push_update(json!({ "message": message }));
            let date = self.now();
            self.payments.charges.insert(
                charge,
                Charge {
                    user: checkout.user,
                    currency: invoice.currency.clone(),
                    amount: invoice.total_amount,
                    date,
                    refunded: false,
                    canceled: false,
                },
            );
        }
        Ok(true.into())
    }

    /// `answerShippingQuery`: with options, the user takes the first (its prices added to the
    /// total) and the pre-checkout query follows; without, the user is told why not.
    pub(super) fn answer_shipping_query(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let id = params
            .get("shipping_query_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let ok = params.get("ok").and_then(Value::as_bool).unwrap_or(false);
        let first = params
            .get("shipping_options")
            .and_then(Value::as_array)
            .and_then(|options| options.first());
        if ok && first.is_none() {
            return Err(Refusal::bad_request("SHIPPING_OPTIONS_EMPTY"));
        }
        let reason = params.get("error_message").and_then(Value::as_str);
        if !ok && reason.is_none_or(str::is_empty) {
            return Err(Refusal::bad_request("ERROR_MESSAGE_EMPTY"));
        }
        let mut checkout = self
            .payments
            .shipping
            .remove(id)
            .ok_or_else(|| Refusal::bad_request("QUERY_ID_INVALID"))?;
        if let Some(option) = first {
            let shipping: i64 = option["prices"]
                .as_array()
                .map(|prices| prices.iter().filter_map(|p| p["amount"].as_i64()).sum())
                .unwrap_or(0);
            checkout.invoice.total_amount += shipping;
            checkout.shipping_option = option["id"].as_str().map(str::to_string);
            let query = format!("{}", 7_000_000 + self.payments.next());
            self.ask_pre_checkout(query, checkout);
        }
        Ok(true.into())
    }

    /// The Stars payment `params` name, of its user.
    fn charge_of(&mut self, params: &Map<String, Value>) -> Result<&mut Charge, Refusal> {
        let user = params.get("user_id").and_then(Value::as_i64);
        let id = params
            .get("telegram_payment_charge_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        self.payments
            .charges
            .get_mut(id)
            .filter(|c| Some(c.user) == user && c.currency == crate::commands::chat::STARS)
            .ok_or_else(|| Refusal::bad_request("CHARGE_NOT_FOUND"))
    }

    /// `refundStarPayment`: once per payment.
    pub(super) fn refund_star_payment(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let charge = self.charge_of(params)?;
        if charge.refunded {
            return Err(Refusal::bad_request("CHARGE_ALREADY_REFUNDED"));
        }
        charge.refunded = true;
        Ok(true.into())
    }

    /// `editUserStarSubscription`.
    pub(super) fn edit_user_star_subscription(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let canceled = params.get("is_canceled").and_then(Value::as_bool);
        let charge = self.charge_of(params)?;
        charge.canceled = canceled.unwrap_or(charge.canceled);
        Ok(true.into())
    }

    /// `getStarTransactions`: the payments in Stars, newest first, each refund after its
    /// payment.
    pub(super) fn get_star_transactions(
        &mut self,
        params: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        let offset = params.get("offset").and_then(Value::as_u64).unwrap_or(0);
        let limit = params.get("limit").and_then(Value::as_u64).unwrap_or(100);
        let mut all = Vec::new();
        for (id, charge) in self.payments.charges.iter().rev() {
            if charge.currency != crate::commands::chat::STARS {
                continue;
            }
            let partner = json!({"type": "user", "user": self.user_json(charge.user)});
            if charge.refunded {
                all.push(json!({"id": id, "amount": charge.amount, "date": charge.date, "receiver": partner}));
            }
            all.push(
                json!({"id": id, "amount": charge.amount, "date": charge.date, "source": partner}),
            );
        }
        let page: Vec<Value> = all
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(100))
            .collect();
        Ok(json!({ "transactions": page }))
    }
}
