//! Rhai standard functions registered again where Rhai's own escape the sandbox: `sort`,
//! `order` and `dedup` swallow every error their callback raises (the time and operation limits, an
//! interrupt), and `replace` builds its result before any size check. These stop on the first
//! error and refuse a result over `[limits] max_string_size` before allocating it.
//!
//! Each callback call here is made through [`callback`], which looks at the run's deadline,
//! interrupt flag and memory first ([`run::check_run`]): Rhai runs a callback called from a
//! native function on a copy of its operation count, so a comparer that itself sorts would
//! otherwise reach the run's checks too rarely.

use super::described;
use crate::engine::run;
use rhai::{Array, Dynamic, EvalAltResult, FnPtr, ImmutableString, Module, NativeCallContext};
use std::cmp::Ordering;

type Result<T> = std::result::Result<T, Box<EvalAltResult>>;

const SORT_DOC: &str = r#"
Sort the array with `comparer(a, b)`, which returns a negative number, zero or a positive number
(or `true` when `a` comes first). An error in the comparer — including the call running out of
time or operations — stops the sort and is raised, unlike Rhai's own `sort`.

# Example
```rhai
let x = [3, 1, 2];
x.sort(|a, b| a - b);   // [1, 2, 3]
```
"#;

const ORDER_DOC: &str = r#"
A sorted copy of the array, ordered by `comparer(a, b)` as `sort` orders it; the array itself is
left as it is. An error in the comparer stops it and is raised.

# Example
```rhai
let x = [3, 1, 2];
let y = x.order(|a, b| a - b);   // [1, 2, 3]; x is still [3, 1, 2]
```
"#;

const DEDUP_DOC: &str = r#"
Remove consecutive elements that equal the one before (with `==`, or with
`comparer(previous, next)` returning `true`). An error in the comparison stops it and is raised,
unlike Rhai's own `dedup`.

# Example
```rhai
let x = [1, 1, 2, 3, 3, 1];
x.dedup();              // [1, 2, 3, 1]
```
"#;

const REPLACE_DOC: &str = r#"
Replace every occurrence of `find` in the string with `substitute`. A result longer than
`[limits] max_string_size` is refused before it is built (Rhai's own `replace` builds it first:
`s.replace("", big)` would allocate `len(s) × len(big)`).

# Example
```rhai
let s = "a-b-c";
s.replace("-", "+");    // "a+b+c"
```
"#;

pub(super) fn register(module: &mut Module) {
    for name in ["sort", "sort_by"] {
        described(name, &["array: Array", "comparer: FnPtr", "()"], SORT_DOC)
            .with_purity(false)
            .with_volatility(true)
            .set_into_module(module, sort);
    }
    for name in ["order", "order_by"] {
        described(
            name,
            &["array: Array", "comparer: FnPtr", "Array"],
            ORDER_DOC,
        )
        .with_volatility(true)
        .set_into_module(
            module,
            |ctx: NativeCallContext, array: &mut Array, comparer: FnPtr| -> Result<Array> {
                let mut sorted = array.clone();
                sort(ctx, &mut sorted, comparer)?;
                Ok(sorted)
            },
        );
    }
    described("dedup", &["array: Array", "()"], DEDUP_DOC)
        .with_purity(false)
        .with_volatility(true)
        .set_into_module(module, dedup);
    described(
        "dedup",
        &["array: Array", "comparer: FnPtr", "()"],
        DEDUP_DOC,
    )
    .with_purity(false)
    .with_volatility(true)
    .set_into_module(module, dedup_by);
    let params = ["string: String", "find: String", "substitute: String", "()"];
    described("replace", &params, REPLACE_DOC)
        .with_purity(false)
        .set_into_module(
            module,
            |ctx: NativeCallContext, s: &mut ImmutableString, find: &str, sub: &str| {
                replace(&ctx, s, find, sub)
            },
        );
    let params = ["string: String", "find: String", "substitute: char", "()"];
    described("replace", &params, REPLACE_DOC)
        .with_purity(false)
        .set_into_module(
            module,
            |ctx: NativeCallContext, s: &mut ImmutableString, find: &str, sub: char| {
                replace(&ctx, s, find, &sub.to_string())
            },
        );
    let params = ["string: String", "find: char", "substitute: String", "()"];
    described("replace", &params, REPLACE_DOC)
        .with_purity(false)
        .set_into_module(
            module,
            |ctx: NativeCallContext, s: &mut ImmutableString, find: char, sub: &str| {
                replace(&ctx, s, &find.to_string(), sub)
            },
        );
}

/// Rhai's reading of a comparer's answer: a number's sign, or `true` for "comes first";
/// anything else orders by type.
fn ordering(answer: &Dynamic, x: &Dynamic, y: &Dynamic) -> Ordering {
    match answer.as_int() {
        Ok(n) => n.cmp(&0),
        Err(_) => match answer.as_bool() {
            Ok(true) => Ordering::Less,
            Ok(false) => Ordering::Greater,
            Err(_) => x.type_id().cmp(&y.type_id()),
        },
    }
}

/// Call `f` with `args` as a callback of the running builtin, after looking at the run's
/// deadline, interrupt flag and memory.
fn callback<const N: usize>(
    ctx: &NativeCallContext,
    f: &FnPtr,
    args: [Dynamic; N],
) -> Result<Dynamic> {
    run::check_run()?;
    f.call_raw(ctx, None, args)
}

fn sort(ctx: NativeCallContext, array: &mut Array, comparer: FnPtr) -> Result<()> {
    if array.len() <= 1 {
        return Ok(());
    }
    let mut failed = None;
    // `sort_by` may panic on a comparer that is not a total order: that is an error too.
    let sorted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        array.sort_by(|x, y| {
            if failed.is_some() {
                return Ordering::Equal;
            }
            match callback(&ctx, &comparer, [x.clone(), y.clone()]) {
                Ok(answer) => ordering(&answer, x, y),
                Err(e) => {
                    failed = Some(e);
                    Ordering::Equal
                }
            }
        })
    }));
    if let Some(e) = failed {
        return Err(e);
    }
    sorted.map_err(|_| {
        EvalAltResult::ErrorRuntime(
            "error in comparer for sorting: it does not order the elements consistently".into(),
            rhai::Position::NONE,
        )
        .into()
    })
}

fn dedup(ctx: NativeCallContext, array: &mut Array) -> Result<()> {
    dedup_with(array, |previous, next| {
        match ctx.call_native_fn_raw("==", true, &mut [previous, next]) {
            Ok(same) => Ok(same.as_bool().unwrap_or(false)),
            // No `==` for these types: not equal, as in Rhai's own.
            Err(e) if matches!(*e, EvalAltResult::ErrorFunctionNotFound(..)) => Ok(false),
            Err(e) => Err(e),
        }
    })
}

fn dedup_by(ctx: NativeCallContext, array: &mut Array, comparer: FnPtr) -> Result<()> {
    dedup_with(array, |previous, next| {
        let answer = callback(&ctx, &comparer, [previous.clone(), next.clone()])?;
        Ok(answer.as_bool().unwrap_or(false))
    })
}

/// Remove the elements `same(previous, next)` says repeat the one before; stop at its first
/// error.
fn dedup_with(
    array: &mut Array,
    mut same: impl FnMut(&mut Dynamic, &mut Dynamic) -> Result<bool>,
) -> Result<()> {
    let mut failed = None;
    array.dedup_by(|next, previous| {
        if failed.is_some() {
            return false;
        }
        same(previous, next).unwrap_or_else(|e| {
            failed = Some(e);
            false
        })
    });
    failed.map_or(Ok(()), Err)
}

/// `s` with `find` replaced by `sub`, refused when the result would pass the string limit.
fn replace(ctx: &NativeCallContext, s: &mut ImmutableString, find: &str, sub: &str) -> Result<()> {
    if s.is_empty() {
        return Ok(());
    }
    let matches = if find.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(find).count()
    };
    let grown = (s.len() - matches * find.len()).saturating_add(matches.saturating_mul(sub.len()));
    let limit = ctx.engine().max_string_size();
    if limit > 0 && grown > limit {
        return Err(EvalAltResult::ErrorDataTooLarge(
            "Length of string".to_string(),
            rhai::Position::NONE,
        )
        .into());
    }
    *s = s.replace(find, sub).into();
    Ok(())
}
