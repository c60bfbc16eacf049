//! Payments: invoices (in Telegram Stars, `XTR`, or a provider's currency), the answers to the
//! pre-checkout and shipping queries Telegram asks before it charges, refunds of Stars, the
//! bot's Star transactions, subscriptions, paid media. A payment that went through arrives as a
//! message with `successful_payment`: `on_successful_payment` runs once for each (see the
//! payments guide).

use super::BUSINESS;
use super::{CHAT_ID, ChatAction, Method, Params, Takes, chat_id, put_opt_int, put_opt_str};
use crate::commands::FieldSpec;
use crate::request::{CommandError, Fields, as_int};
use serde_json::{Map, Value, json};

/// Telegram Stars' currency code.
pub const STARS: &str = "XTR";

/// The longest invoice payload Telegram takes, in bytes.
const MAX_PAYLOAD_BYTES: usize = 128;
/// The one subscription period Telegram takes: 30 days, in seconds.
const SUBSCRIPTION_PERIOD: i64 = 2_592_000;
/// The most Stars paid media may cost.
const MAX_PAID_MEDIA_STARS: i64 = 10_000;

const TITLE: FieldSpec = FieldSpec::required(
    "title",
    "string",
    r#""Pro for a month""#,
    "the product's name, 1–32 characters",
);
const DESCRIPTION: FieldSpec = FieldSpec::required(
    "description",
    "string",
    r#""Everything unlocked for 30 days""#,
    "what it is, 1–255 characters",
);
const PAYLOAD: FieldSpec = FieldSpec::required(
    "payload",
    "string",
    r#""pro-30d""#,
    "what the bot gets back with the payment (not shown to the user), 1–128 bytes",
);
const PRICES: FieldSpec = FieldSpec::required(
    "prices",
    "integer|list",
    r#"[{"label": "Pro", "amount": 100}]"#,
    "the price parts [{label, amount}] in the currency's smallest units, or one amount (labelled with the title); Stars take exactly one",
);
const CURRENCY: FieldSpec = FieldSpec {
    default: Some(r#""XTR""#),
    ..FieldSpec::optional(
        "currency",
        "string",
        "a three-letter ISO 4217 code, or XTR for Telegram Stars",
    )
};
const PROVIDER_TOKEN: FieldSpec = FieldSpec::optional(
    "provider_token",
    "string",
    "the payment provider's token (leave out for Stars)",
);

/// A payment, by the `telegram_payment_charge_id` of its `successful_payment` (a
/// subscription by its first payment's).
const CHARGE_ID: FieldSpec = FieldSpec::required(
    "telegram_payment_charge_id",
    "string",
    r#""stxA1b2C3""#,
    "the payment (its successful_payment's charge id; a subscription's first payment)",
);

/// An invoice builtin's parameters: `lead` ones, the invoice's four, then `tail` ones (the
/// return type last).
macro_rules! invoice_params {
    ($($lead:literal),* ; $($tail:literal),*) => {
        &[
            $($lead,)*
            "title: String",
            "description: String",
            "payload: String",
            "prices: INT | Array",
            $($tail),*
        ]
    };
}

/// What `send_invoice` answers: the sent message.
const SENT_INVOICE: &str = r#"{"message_id": 9, "date": 1767225600, "chat": {"id": 1001, "type": "private"}, "invoice": {"title": "Pro for a month", "description": "Everything unlocked for 30 days", "start_parameter": "", "currency": "XTR", "total_amount": 100}}"#;

pub(super) const SEND_INVOICE: ChatAction = ChatAction {
    name: "send_invoice",
    doc: r#"
Send an invoice (`sendInvoice`) and return the sent message. `prices` is one amount or a list of
`#{label, amount}` in the currency's smallest units; the currency is Telegram Stars (`XTR`) unless
options say `currency` (with the provider's `provider_token`). Options are Bot API fields passed
through (`photo_url`, `need_name`, `max_tip_amount`, …). Optional leading `chat_id`. The user's
payment comes back as a pre-checkout query (`on_pre_checkout_query`, to answer within 10 s) and
then a message with `successful_payment` (`on_successful_payment`, once per payment).

# Example
```rhai
send_invoice("Pro for a month", "Everything unlocked for 30 days", "pro-30d", 100);
send_invoice(-1001234567890, "Donation", "Thank you!", "tip", [#{label: "Tip", amount: 50}]);
```
"#,
    overloads: &[
        invoice_params!(; "Map"),
        invoice_params!(; "options: Map", "Map"),
        invoice_params!("chat_id: INT | String"; "Map"),
        invoice_params!("chat_id: INT | String"; "options: Map", "Map"),
    ],
    method: Method::Fixed("sendInvoice"),
    takes: Takes::AndMore(&[
        CHAT_ID,
        TITLE,
        DESCRIPTION,
        PAYLOAD,
        PRICES,
        CURRENCY,
        PROVIDER_TOKEN,
    ]),
    returns: SENT_INVOICE,
    build: |f, ctx| {
        let mut params = invoice(f)?;
        params.insert("chat_id".into(), chat_id(f, ctx)?);
        Ok(params)
    },
};

pub(super) const CREATE_INVOICE_LINK: ChatAction = ChatAction {
    name: "create_invoice_link",
    doc: r#"
Create a link to an invoice (`createInvoiceLink`) that anyone can pay, and return it. The fields
are `send_invoice`'s; `subscription_period: 2592000` (30 days, Stars only) makes it a
subscription, paid again each month until the user or `edit_user_star_subscription` cancels it.

# Example
```rhai
let link = create_invoice_link("Club", "Monthly membership", "club", 250, #{subscription_period: 2592000});
send_message(`Join the club: ${link}`);
```
"#,
    overloads: &[
        invoice_params!(; "String"),
        invoice_params!(; "options: Map", "String"),
    ],
    method: Method::Fixed("createInvoiceLink"),
    takes: Takes::AndMore(&[
        TITLE,
        DESCRIPTION,
        PAYLOAD,
        PRICES,
        CURRENCY,
        PROVIDER_TOKEN,
        FieldSpec::optional(
            "subscription_period",
            "integer",
            "2592000 (30 days) for a monthly subscription in Stars",
        ),
    ]),
    returns: r#""https://t.me/$EXAMPLE_invoice""#,
    build: |f, _| {
        let mut params = invoice(f)?;
        if let Some(period) = f.opt_int("subscription_period")? {
            if period != SUBSCRIPTION_PERIOD {
                return Err(f.error(format!(
                    "subscription_period must be {SUBSCRIPTION_PERIOD} (30 days), the only period Telegram takes"
                )));
            }
            if params["currency"] != STARS {
                return Err(f.error(
                    "a subscription is paid in Stars: leave currency out or set it to XTR",
                ));
            }
            params.insert("subscription_period".into(), period.into());
        }
        Ok(params)
    },
};

pub(super) const ANSWER_PRE_CHECKOUT_QUERY: ChatAction = ChatAction {
    name: "answer_pre_checkout_query",
    doc: r#"
Answer a pre-checkout query (`answerPreCheckoutQuery`): `true` lets Telegram charge the user,
`false` with an `error_message` (shown to the user) stops the payment. Telegram waits 10 s for the
answer; tgscript runs `on_pre_checkout_query` ahead of other updates so it is in time.

# Example
```rhai
fn on_pre_checkout_query(query) {
    if query.invoice_payload == "pro-30d" {
        answer_pre_checkout_query(query.id, true);
    } else {
        answer_pre_checkout_query(query.id, false, "This offer has ended");
    }
}
```
"#,
    overloads: &[
        &["pre_checkout_query_id: String", "ok: bool", "bool"],
        &[
            "pre_checkout_query_id: String",
            "ok: bool",
            "error_message: String",
            "bool",
        ],
    ],
    method: Method::Confirmed("answerPreCheckoutQuery"),
    takes: Takes::Only(&[
        FieldSpec::required(
            "pre_checkout_query_id",
            "string",
            r#""2356723423""#,
            "the query (its `id`)",
        ),
        FieldSpec::required(
            "ok",
            "boolean",
            "true",
            "true to go on with the payment, false to stop it",
        ),
        FieldSpec::optional(
            "error_message",
            "string",
            "why it stops, shown to the user (required with ok false)",
        ),
    ]),
    returns: "true",
    build: |f, _| {
        let ok = f.opt_bool("ok")?.ok_or_else(|| f.error("ok is required"))?;
        answer(f, "pre_checkout_query_id", ok)
    },
};

pub(super) const ANSWER_SHIPPING_QUERY: ChatAction = ChatAction {
    name: "answer_shipping_query",
    doc: r#"
Answer a shipping query (`answerShippingQuery`, for invoices with `is_flexible`): the shipping
options for the user's address, or `false` with an `error_message` when it cannot be shipped
there.

# Example
```rhai
fn on_shipping_query(query) {
    answer_shipping_query(query.id, [#{id: "post", title: "Post", prices: [#{label: "Post", amount: 500}]}]);
}
```
"#,
    overloads: &[
        &[
            "shipping_query_id: String",
            "shipping_options: Array",
            "bool",
        ],
        &[
            "shipping_query_id: String",
            "ok: bool",
            "error_message: String",
            "bool",
        ],
    ],
    method: Method::Confirmed("answerShippingQuery"),
    takes: Takes::Only(&[
        FieldSpec::required(
            "shipping_query_id",
            "string",
            r#""8723423""#,
            "the query (its `id`)",
        ),
        FieldSpec::optional(
            "shipping_options",
            "list",
            "the options [{id, title, prices: [{label, amount}]}] (ok true)",
        )
        .eg(r#"[{"id": "post", "title": "Post", "prices": [{"label": "Post", "amount": 500}]}]"#),
        FieldSpec::optional(
            "ok",
            "boolean",
            "false when it cannot be shipped (true with shipping_options)",
        ),
        FieldSpec::optional(
            "error_message",
            "string",
            "why not, shown to the user (required with ok false)",
        ),
    ]),
    returns: "true",
    build: |f, _| {
        let ok = match (f.opt_bool("ok")?, f.get("shipping_options")) {
            (Some(ok), _) => ok,
            (None, Some(_)) => true,
            (None, None) => {
                return Err(
                    f.error("give shipping_options, or ok false with an error_message saying why")
                );
            }
        };
        let mut params = answer(f, "shipping_query_id", ok)?;
        match (ok, f.get("shipping_options")) {
            (true, Some(Value::Array(options))) if !options.is_empty() => {
                let options = options
                    .iter()
                    .map(|option| shipping_option(f, option))
                    .collect::<Result<Vec<_>, _>>()?;
                params.insert("shipping_options".into(), options.into());
            }
            (true, _) => {
                return Err(
                    f.error("shipping_options must be a non-empty list of #{id, title, prices}")
                );
            }
            _ => {}
        }
        Ok(params)
    },
};

pub(super) const REFUND_STAR_PAYMENT: ChatAction = ChatAction {
    name: "refund_star_payment",
    doc: r#"
Give a user back the Stars of one payment (`refundStarPayment`), by the payment's
`telegram_payment_charge_id` (in its `successful_payment`).

# Example
```rhai
fn on_successful_payment(msg) {
    if msg.successful_payment.invoice_payload == "test" {
        refund_star_payment(msg.from.id, msg.successful_payment.telegram_payment_charge_id);
    }
}
```
"#,
    overloads: &[&[
        "user_id: INT | String",
        "telegram_payment_charge_id: String",
        "bool",
    ]],
    method: Method::Confirmed("refundStarPayment"),
    takes: Takes::Only(&[
        FieldSpec::required("user_id", "integer|string", "1001", "the user who paid"),
        CHARGE_ID,
    ]),
    returns: "true",
    build: |f, _| charge(f),
};

pub(super) const EDIT_USER_STAR_SUBSCRIPTION: ChatAction = ChatAction {
    name: "edit_user_star_subscription",
    doc: r#"
Cancel a user's subscription paid in Stars, or take the cancellation back
(`editUserStarSubscription`): the subscription is the payment's `telegram_payment_charge_id`.

# Example
```rhai
fn on_command(cmd, args, msg) {
    if cmd == "unsubscribe" { edit_user_star_subscription(msg.from.id, args[0], true); }
}
```
"#,
    overloads: &[&[
        "user_id: INT | String",
        "telegram_payment_charge_id: String",
        "is_canceled: bool",
        "bool",
    ]],
    method: Method::Confirmed("editUserStarSubscription"),
    takes: Takes::Only(&[
        FieldSpec::required("user_id", "integer|string", "1001", "the subscriber"),
        CHARGE_ID,
        FieldSpec::required(
            "is_canceled",
            "boolean",
            "true",
            "true to cancel (it runs to the end of the period), false to renew again",
        ),
    ]),
    returns: "true",
    build: |f, _| {
        let mut params = charge(f)?;
        let canceled = f
            .opt_bool("is_canceled")?
            .ok_or_else(|| f.error("is_canceled is required"))?;
        params.insert("is_canceled".into(), canceled.into());
        Ok(params)
    },
};

pub(super) const GET_STAR_TRANSACTIONS: ChatAction = ChatAction {
    name: "get_star_transactions",
    doc: r#"
The bot's Star transactions, newest first (`getStarTransactions`): `#{transactions: [...]}`,
each with `id`, `amount`, `date` and `source` (who paid) or `receiver` (a refund). Pages with
`offset` and `limit` (1–100).

# Example
```rhai
let page = get_star_transactions(0, 10);
print(`${page.transactions.len()} transactions`);
```
"#,
    overloads: &[&["Map"], &["offset: INT", "limit: INT", "Map"]],
    method: Method::Fixed("getStarTransactions"),
    takes: Takes::Only(&[
        FieldSpec::optional("offset", "integer", "how many to skip"),
        FieldSpec::optional("limit", "integer", "how many at most, 1–100 (default 100)"),
    ]),
    returns: r#"{"transactions": [{"id": "stxA1b2C3", "amount": 100, "date": 1767225600, "source": {"type": "user", "user": {"id": 1001, "is_bot": false, "first_name": "Alice"}}}]}"#,
    build: |f, _| {
        let mut params = Map::new();
        if let Some(offset) = f.opt_int("offset")?
            && offset < 0
        {
            return Err(f.error("offset must be 0 or more"));
        }
        if let Some(limit) = f.opt_int("limit")?
            && !(1..=100).contains(&limit)
        {
            return Err(f.error(format!("limit must be 1–100, got {limit}")));
        }
        put_opt_int(f, &mut params, "offset")?;
        put_opt_int(f, &mut params, "limit")?;
        Ok(params)
    },
};

pub(super) const SEND_PAID_MEDIA: ChatAction = ChatAction {
    name: "send_paid_media",
    doc: r#"
Send photos or videos that users see after paying Stars (`sendPaidMedia`) and return the sent
message. `media` is a list of `#{type: "photo" | "video", media: a URL, file_id or file}`
(1–10; files go up in the same call).
Options are Bot API fields passed through (`caption`, `payload`, …). Optional leading
`chat_id`.

# Example
```rhai
send_paid_media(25, [#{type: "photo", media: "https://example.com/full.jpg"}], #{caption: "The full picture"});
```
"#,
    overloads: &[
        &["star_count: INT", "media: Array", "Map"],
        &["star_count: INT", "media: Array", "options: Map", "Map"],
        &[
            "chat_id: INT | String",
            "star_count: INT",
            "media: Array",
            "Map",
        ],
        &[
            "chat_id: INT | String",
            "star_count: INT",
            "media: Array",
            "options: Map",
            "Map",
        ],
    ],
    method: Method::Fixed("sendPaidMedia"),
    takes: Takes::AndMore(&[
        BUSINESS,
        CHAT_ID,
        FieldSpec::required("star_count", "integer", "25", "the price in Stars, 1–10000"),
        FieldSpec::required(
            "media",
            "list",
            r#"[{"type": "photo", "media": "https://example.com/full.jpg"}]"#,
            "1–10 items {type: photo|video, media: a URL, file_id or upload {\"base64\": …, \"filename\": …}}",
        ),
    ]),
    returns: r#"{"message_id": 10, "date": 1767225600, "chat": {"id": -1001234567890, "type": "supergroup"}, "paid_media": {"star_count": 25, "paid_media": [{"type": "preview"}]}}"#,
    build: |f, ctx| {
        let stars = f.int("star_count")?;
        if !(1..=MAX_PAID_MEDIA_STARS).contains(&stars) {
            return Err(f.error(format!(
                "star_count must be 1–{MAX_PAID_MEDIA_STARS}, got {stars}"
            )));
        }
        let mut params = f.map.clone();
        let media = super::albums::media_list(f, &["photo", "video"], 1, &mut params)?;
        params.insert("media".into(), Value::Array(media));
        params.insert("chat_id".into(), chat_id(f, ctx)?);
        params.insert("star_count".into(), stars.into());
        Ok(params)
    },
};

/// The fields every invoice has, checked: title, description, payload, currency, prices and
/// provider token, with the rest of the request passed through.
fn invoice(f: &Fields) -> Result<Params, CommandError> {
    let mut params = f.map.clone();
    let title = super::settings::text(f, "title", 1, 32)?;
    super::settings::text(f, "description", 1, 255)?;
    let payload = f
        .opt_str("payload")?
        .ok_or_else(|| f.error("payload is required"))?;
    if payload.is_empty() || payload.len() > MAX_PAYLOAD_BYTES {
        return Err(f.error(format!(
            "payload must be 1–{MAX_PAYLOAD_BYTES} bytes, got {}",
            payload.len()
        )));
    }
    let currency = f.opt_str("currency")?.unwrap_or(STARS);
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(f.error(format!(
            "currency must be a three-letter code in capitals (USD, EUR, XTR for Stars), got {currency:?}"
        )));
    }
    let prices = prices(f, title)?;
    if currency == STARS {
        if prices.len() != 1 {
            return Err(f.error(format!(
                "an invoice in Stars has exactly one price, got {}",
                prices.len()
            )));
        }
        if f.opt_str("provider_token")?.is_some_and(|t| !t.is_empty()) {
            return Err(f.error("an invoice in Stars has no provider_token: leave it out"));
        }
    } else if f.opt_str("provider_token")?.is_none_or(str::is_empty) {
        return Err(f.error(format!(
            "an invoice in {currency} needs the payment provider's provider_token (or pay in Stars: currency XTR)"
        )));
    }
    params.insert("currency".into(), currency.into());
    params.insert("prices".into(), prices.into());
    put_opt_str(f, &mut params, "provider_token")?;
    Ok(params)
}

/// The invoice's price parts: one amount (labelled `title`) or a list of `{label, amount}`.
fn prices(f: &Fields, title: &str) -> Result<Vec<Value>, CommandError> {
    let price = |label: &str, amount: Option<i64>| {
        match amount {
        Some(amount) if amount > 0 => Ok(json!({"label": label, "amount": amount})),
        _ => Err(f.error(
            "prices must be a positive amount or a list of #{label, amount} with positive integer amounts",
        )),
    }
    };
    match f.get("prices") {
        Some(Value::Array(parts)) if !parts.is_empty() => parts
            .iter()
            .map(|part| match part["label"].as_str() {
                Some(label) if !label.is_empty() => price(label, as_int(&part["amount"])),
                _ => Err(f.error(format!("each price needs a label, got {part}"))),
            })
            .collect(),
        Some(amount) => price(title, as_int(amount)).map(|p| vec![p]),
        None => Err(f.error("prices is required")),
    }
}

/// A shipping option, checked: `{id, title, prices}`.
fn shipping_option(f: &Fields, option: &Value) -> Result<Value, CommandError> {
    let valid = option["id"].as_str().is_some_and(|s| !s.is_empty())
        && option["title"].as_str().is_some_and(|s| !s.is_empty())
        && option["prices"].as_array().is_some_and(|prices| {
            !prices.is_empty()
                && prices.iter().all(|p| {
                    p["label"].as_str().is_some_and(|l| !l.is_empty())
                        && as_int(&p["amount"]).is_some_and(|a| a > 0)
                })
        });
    match valid {
        true => Ok(option.clone()),
        false => Err(f.error(format!(
            "each shipping option must be #{{id, title, prices: [#{{label, amount}}]}}, got {option}"
        ))),
    }
}

/// The answer `ok` to a pre-checkout or shipping query `id_key`, with the `error_message`
/// that a refusal needs.
fn answer(f: &Fields, id_key: &str, ok: bool) -> Result<Params, CommandError> {
    let id = f
        .opt_str(id_key)?
        .filter(|id| !id.is_empty())
        .ok_or_else(|| f.error(format!("{id_key} is required (the query's id)")))?;
    let mut params = Map::new();
    params.insert(id_key.into(), id.into());
    params.insert("ok".into(), ok.into());
    if !ok {
        let message = f
            .opt_str("error_message")?
            .filter(|m| !m.trim().is_empty())
            .ok_or_else(|| f.error("error_message is required when ok is false: say why"))?;
        params.insert("error_message".into(), message.into());
    }
    Ok(params)
}

/// A user and one of their payments.
fn charge(f: &Fields) -> Result<Params, CommandError> {
    let user = f.int("user_id")?;
    let charge = f
        .opt_str("telegram_payment_charge_id")?
        .filter(|c| !c.is_empty())
        .ok_or_else(|| f.error("telegram_payment_charge_id is required"))?;
    let mut params = Map::new();
    params.insert("user_id".into(), user.into());
    params.insert("telegram_payment_charge_id".into(), charge.into());
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telegram::UpdateContext;

    fn prepare(action: &ChatAction, request: Value) -> Result<Value, String> {
        let Value::Object(request) = request else {
            panic!("a map")
        };
        let context = UpdateContext {
            chat_id: Some(1001),
            ..UpdateContext::default()
        };
        action
            .prepare(&request, Some(&context))
            .map(|(_, params)| params)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn an_invoice_in_stars_has_one_price_and_no_provider() {
        let sent = prepare(
            &SEND_INVOICE,
            json!({"title": "Pro", "description": "All of it", "payload": "pro", "prices": 100}),
        );
        assert_eq!(
            sent,
            Ok(
                json!({"chat_id": 1001, "title": "Pro", "description": "All of it",
                "payload": "pro", "currency": "XTR",
                "prices": [{"label": "Pro", "amount": 100}]})
            )
        );
        let two = json!({"title": "Pro", "description": "d", "payload": "p",
            "prices": [{"label": "a", "amount": 1}, {"label": "b", "amount": 2}]});
        assert!(prepare(&SEND_INVOICE, two).is_err_and(|e| e.contains("exactly one price")));
        let provider = json!({"title": "Pro", "description": "d", "payload": "p", "prices": 5,
            "provider_token": "123:TEST"});
        assert!(prepare(&SEND_INVOICE, provider).is_err_and(|e| e.contains("no provider_token")));
        let euros = json!({"title": "Pro", "description": "d", "payload": "p", "prices": 5,
            "currency": "EUR"});
        assert!(prepare(&SEND_INVOICE, euros).is_err_and(|e| e.contains("provider_token")));
    }

    #[test]
    fn bad_invoice_fields_are_refused_with_the_field() {
        let base = json!({"title": "Pro", "description": "d", "payload": "p", "prices": 5});
        let with = |key: &str, value: Value| {
            let mut request = base.clone();
            request[key] = value;
            prepare(&SEND_INVOICE, request).unwrap_err()
        };
        assert!(with("title", json!("")).contains("title must be 1–32"));
        assert!(with("payload", json!("x".repeat(129))).contains("payload must be 1–128 bytes"));
        assert!(with("currency", json!("usd")).contains("three-letter code"));
        assert!(with("prices", json!(0)).contains("positive"));
        assert!(with("prices", json!([{"amount": 3}])).contains("label"));
        assert!(with("prices", json!("lots")).contains("positive"));
    }

    #[test]
    fn a_refused_query_says_why_and_a_subscription_is_thirty_days_in_stars() {
        let refused = json!({"pre_checkout_query_id": "q1", "ok": false});
        assert!(prepare(&ANSWER_PRE_CHECKOUT_QUERY, refused).is_err_and(|e| e.contains("say why")));
        let fine = json!({"pre_checkout_query_id": "q1", "ok": false, "error_message": "Sold out"});
        assert_eq!(
            prepare(&ANSWER_PRE_CHECKOUT_QUERY, fine),
            Ok(json!({"pre_checkout_query_id": "q1", "ok": false, "error_message": "Sold out"}))
        );
        let weekly = json!({"title": "Club", "description": "d", "payload": "c", "prices": 5,
            "subscription_period": 604800});
        assert!(prepare(&CREATE_INVOICE_LINK, weekly).is_err_and(|e| e.contains("2592000")));
        let no_options = json!({"shipping_query_id": "s1", "shipping_options": []});
        assert!(
            prepare(&ANSWER_SHIPPING_QUERY, no_options).is_err_and(|e| e.contains("non-empty"))
        );
    }
}
