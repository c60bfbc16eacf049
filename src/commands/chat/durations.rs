//! Lengths of time a request may give instead of an absolute `until_date`: Salebot's
//! `hours` (`tg_ban_chat_member`) and `minutes` (`tg_restrict_chat_member`). An action takes
//! one by listing its [`FieldSpec`] ([`HOURS`], [`MINUTES`]); [`resolve`] turns it into
//! `until_date` from the clock of the call's effects, before the action's pure `build`.

use crate::commands::FieldSpec;
use crate::request::{CommandError, Fields};
use serde_json::{Map, Value};

/// A ban's length in hours (Salebot's `tg_ban_chat_member`).
pub(super) const HOURS: FieldSpec = FieldSpec::optional(
    "hours",
    "integer",
    "how many hours it lasts, instead of until_date (0: forever; over 366 days: forever)",
);

/// A restriction's length in minutes (Salebot's `tg_restrict_chat_member`).
pub(super) const MINUTES: FieldSpec = FieldSpec::optional(
    "minutes",
    "integer",
    "how many minutes it lasts, instead of until_date (0: forever; over 366 days: forever)",
);

/// Every length field, with the seconds one unit is.
const UNITS: &[(FieldSpec, i64)] = &[(HOURS, 3600), (MINUTES, 60)];

/// The length fields among `fields` that `request` holds.
fn given<'a>(
    fields: &'a [FieldSpec],
    request: &'a Map<String, Value>,
) -> impl Iterator<Item = (&'static str, i64)> + 'a {
    UNITS
        .iter()
        .filter(|(unit, _)| fields.iter().any(|f| f.name == unit.name))
        .filter(|(unit, _)| request.get(unit.name).is_some_and(|v| !v.is_null()))
        .map(|(unit, seconds)| (unit.name, *seconds))
}

/// Whether `request` gives a length one of `fields` takes (so the clock is needed).
pub(super) fn wanted(fields: &[FieldSpec], request: &Map<String, Value>) -> bool {
    given(fields, request).next().is_some()
}

/// `request` with its length (one of `fields`) replaced by `until_date`, `now` plus the
/// length (0, forever, for a length of 0). A negative or non-integer length, or a length
/// given with `until_date`, is refused.
pub(super) fn resolve(
    command: &str,
    fields: &[FieldSpec],
    request: &Map<String, Value>,
    now: i64,
) -> Result<Map<String, Value>, CommandError> {
    let f = Fields::new(command, request);
    let mut resolved = request.clone();
    for (name, seconds) in given(fields, request) {
        if f.get("until_date").is_some() {
            return Err(f.error(format!("give either {name} or until_date, not both")));
        }
        let length = f
            .opt_int(name)?
            .filter(|n| *n >= 0)
            .ok_or_else(|| f.error(format!("{name} must be a whole number, 0 or more")))?;
        let until = match length {
            0 => 0,
            n => now.saturating_add(n.saturating_mul(seconds)),
        };
        resolved.remove(name);
        resolved.insert("until_date".into(), until.into());
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_length_becomes_until_date_from_now_and_zero_is_forever() {
        let fields = [HOURS];
        let two = map(json!({"user_id": 1, "hours": 2}));
        assert!(wanted(&fields, &two));
        let resolved = resolve("ban", &fields, &two, 1_000).expect("resolved");
        assert_eq!(
            Value::Object(resolved),
            json!({"user_id": 1, "until_date": 1_000 + 7_200})
        );
        let zero = map(json!({"hours": 0}));
        let resolved = resolve("ban", &fields, &zero, 1_000).expect("resolved");
        assert_eq!(Value::Object(resolved), json!({"until_date": 0}));
        let minutes = map(json!({"minutes": "3"}));
        let resolved = resolve("restrict", &[MINUTES], &minutes, 60).expect("resolved");
        assert_eq!(Value::Object(resolved), json!({"until_date": 240}));
    }

    #[test]
    fn a_length_not_taken_is_left_alone_and_bad_lengths_are_refused() {
        let request = map(json!({"minutes": 5}));
        assert!(!wanted(&[HOURS], &request), "ban takes hours only");
        let same = resolve("ban", &[HOURS], &request, 9).expect("untouched");
        assert_eq!(same, request);
        for (bad, error) in [
            (
                json!({"hours": -1}),
                "hours must be a whole number, 0 or more",
            ),
            (json!({"hours": 1.5}), "hours must be an integer"),
            (
                json!({"hours": 1, "until_date": 5}),
                "give either hours or until_date, not both",
            ),
        ] {
            let refused = resolve("ban", &[HOURS], &map(bad.clone()), 9);
            assert!(
                refused.as_ref().is_err_and(|e| e.error == error),
                "{bad}: {refused:?}"
            );
        }
    }
}
