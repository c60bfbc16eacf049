//! libtdjson, opened at run time: `cargo build` needs no TDLib, and Bot-API-only use needs none
//! at all. tdlib-rs is built without features; its `td_*` symbols are defined here and forward
//! to the library once [`load`] has opened it. Raw requests (the `tdlib()` builtin) travel
//! beside tdlib-rs's own: their answers are taken out of `td_receive` before tdlib-rs sees them.

use serde_json::Value;
use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char, c_double, c_int};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use tokio::sync::oneshot;

/// The TDLib version tgscript speaks (tdlib-rs 1.4's schema).
pub const TDLIB_VERSION: &str = "1.8.61";
/// The npm package that ships libtdjson 1.8.61 for Linux x86-64 (glibc).
pub const NPM_PACKAGE: &str = "@prebuilt-tdlib/linux-x64-glibc@0.1008061.0";
/// The library's file name.
pub const LIBRARY_FILE: &str = "libtdjson.so";

type CreateClientId = unsafe extern "C" fn() -> c_int;
type Send = unsafe extern "C" fn(c_int, *const c_char);
type Receive = unsafe extern "C" fn(c_double) -> *const c_char;
type Execute = unsafe extern "C" fn(*const c_char) -> *const c_char;

/// An opened libtdjson.
pub struct Library {
    /// Never closed: TDLib starts threads that outlive any request, and unmapping their code
    /// would crash the process.
    _library: std::mem::ManuallyDrop<libloading::Library>,
    create_client_id: CreateClientId,
    send: Send,
    receive: Receive,
    execute: Execute,
    /// Where it was loaded from.
    pub path: PathBuf,
    /// The version it reports.
    pub version: String,
}

static LOADED: OnceLock<Library> = OnceLock::new();

/// Why libtdjson could not be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TdjsonError {
    /// No candidate file exists.
    #[error(
        "libtdjson {TDLIB_VERSION} not found (looked in: {looked}); run `tgscript tdlib install`, or set TDJSON_PATH"
    )]
    NotFound {
        /// The places looked in.
        looked: String,
    },
    /// The file could not be opened or lacks the functions.
    #[error(
        "cannot load {path}: {reason}; run `tgscript tdlib install` to get a working libtdjson {TDLIB_VERSION}"
    )]
    Broken {
        /// The file.
        path: String,
        /// What failed.
        reason: String,
    },
    /// The library is another TDLib version.
    #[error(
        "{path} is TDLib {found}, tgscript needs {TDLIB_VERSION}: run `tgscript tdlib install`"
    )]
    WrongVersion {
        /// The file.
        path: String,
        /// The version it reports.
        found: String,
    },
}

/// Where libtdjson is looked for, in order: `TDJSON_PATH`, the config's `tdlib_path`, the
/// data dir, then the system library folders.
pub fn candidates(configured: Option<&Path>, data_dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(env) = std::env::var_os("TDJSON_PATH").filter(|v| !v.is_empty()) {
        out.push(PathBuf::from(env));
    }
    if let Some(path) = configured {
        out.push(path.to_path_buf());
    }
    out.push(installed_path(data_dir));
    for dir in [
        "/usr/local/lib",
        "/usr/lib",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib64",
    ] {
        out.push(Path::new(dir).join(LIBRARY_FILE));
    }
    out
}

/// Where `tgscript tdlib install` puts the library.
pub fn installed_path(data_dir: &Path) -> PathBuf {
    data_dir.join("lib").join(LIBRARY_FILE)
}

/// Open the library at `path` and check its version (without making it the one in use).
pub fn open(path: &Path) -> Result<Library, TdjsonError> {
    let broken = |reason: String| TdjsonError::Broken {
        path: path.display().to_string(),
        reason,
    };
    // SAFETY: libtdjson is a plain C library without initialisation side effects beyond its
    // own; the symbols are resolved with the signatures of TDLib's td_json_client.h.
    unsafe {
        let library = libloading::Library::new(path).map_err(|e| broken(e.to_string()))?;
        let create_client_id = *library
            .get::<CreateClientId>(b"td_create_client_id\0")
            .map_err(|e| broken(e.to_string()))?;
        let send = *library
            .get::<Send>(b"td_send\0")
            .map_err(|e| broken(e.to_string()))?;
        let receive = *library
            .get::<Receive>(b"td_receive\0")
            .map_err(|e| broken(e.to_string()))?;
        let execute = *library
            .get::<Execute>(b"td_execute\0")
            .map_err(|e| broken(e.to_string()))?;
        let mut lib = Library {
            _library: std::mem::ManuallyDrop::new(library),
            create_client_id,
            send,
            receive,
            execute,
            path: path.to_path_buf(),
            version: String::new(),
        };
        let answer = lib.execute(&serde_json::json!({"@type": "getOption", "name": "version"}));
        lib.version = answer["value"].as_str().unwrap_or("unknown").to_string();
        if lib.version != TDLIB_VERSION {
            return Err(TdjsonError::WrongVersion {
                path: path.display().to_string(),
                found: lib.version,
            });
        }
        Ok(lib)
    }
}

/// The first candidate that exists, opened and version-checked. A `TDJSON_PATH` that names no
/// file is an error of its own, not skipped.
pub fn find(candidates: &[PathBuf]) -> Result<Library, TdjsonError> {
    if let Some(env) = std::env::var_os("TDJSON_PATH").filter(|v| !v.is_empty()) {
        let path = PathBuf::from(env);
        if !path.is_file() {
            return Err(TdjsonError::Broken {
                path: path.display().to_string(),
                reason: "TDJSON_PATH names no file".into(),
            });
        }
    }
    match candidates.iter().find(|p| p.is_file()) {
        Some(path) => open(path),
        None => Err(TdjsonError::NotFound {
            looked: candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Make the library the one tdlib-rs uses (the first successful call wins), with TDLib's own
/// log written to `log_file` instead of the terminal.
pub fn load(candidates: &[PathBuf], log_file: &Path) -> Result<&'static Library, TdjsonError> {
    if let Some(lib) = LOADED.get() {
        return Ok(lib);
    }
    let lib = find(candidates)?;
    let _ = LOADED.set(lib);
    let lib = LOADED.get().ok_or_else(|| TdjsonError::NotFound {
        looked: String::new(),
    })?;
    if let Some(dir) = log_file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    lib.execute(&serde_json::json!({"@type": "setLogVerbosityLevel", "new_verbosity_level": 1}));
    lib.execute(&serde_json::json!({
        "@type": "setLogStream",
        "log_stream": {"@type": "logStreamFile", "path": log_file.display().to_string(),
                       "max_file_size": 10_485_760, "redirect_stderr": false},
    }));
    Ok(lib)
}

/// The loaded library, if any.
pub fn loaded() -> Option<&'static Library> {
    LOADED.get()
}

impl Library {
    /// `td_execute` for the few synchronous requests (`getOption version`, log settings).
    pub fn execute(&self, request: &Value) -> Value {
        let Ok(text) = CString::new(request.to_string()) else {
            return Value::Null;
        };
        // SAFETY: a NUL-terminated JSON string in; TDLib returns a string it owns until the
        // next call on this thread, copied out at once.
        unsafe {
            let answer = (self.execute)(text.as_ptr());
            if answer.is_null() {
                return Value::Null;
            }
            serde_json::from_str(&CStr::from_ptr(answer).to_string_lossy()).unwrap_or(Value::Null)
        }
    }
}

/// Answers awaited by raw requests, by `@extra`.
static RAW_WAITERS: Mutex<Option<HashMap<String, oneshot::Sender<Value>>>> = Mutex::new(None);
static RAW_COUNTER: AtomicU64 = AtomicU64::new(0);
const RAW_EXTRA_PREFIX: &str = "tgscript-raw-";

/// The answer to one raw request, on its way; dropping it (a timed-out request) forgets the
/// request, so an answer that never comes leaves nothing behind.
pub struct RawReply {
    extra: String,
    answer: Option<oneshot::Receiver<Value>>,
}

impl RawReply {
    /// Wait for the answer (`None` if the client stopped first).
    pub async fn answer(mut self) -> Option<Value> {
        match self.answer.take() {
            Some(answer) => answer.await.ok(),
            None => None,
        }
    }
}

impl Drop for RawReply {
    fn drop(&mut self) {
        if let Some(waiters) = RAW_WAITERS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            waiters.remove(&self.extra);
        }
    }
}

/// Send a raw TDLib request for `client_id`; the answer arrives through the receive loop.
pub fn send_raw(client_id: i32, mut request: Value) -> RawReply {
    let extra = format!(
        "{RAW_EXTRA_PREFIX}{}",
        RAW_COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let (tx, rx) = oneshot::channel();
    RAW_WAITERS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_or_insert_with(HashMap::new)
        .insert(extra.clone(), tx);
    request["@extra"] = Value::String(extra.clone());
    if let (Some(lib), Ok(text)) = (LOADED.get(), CString::new(request.to_string())) {
        // SAFETY: a valid client id and a NUL-terminated JSON request.
        unsafe { (lib.send)(client_id, text.as_ptr()) }
    }
    RawReply {
        extra,
        answer: Some(rx),
    }
}

/// Route a raw request's answer; returns false when `text` is not one.
fn route_raw(text: &str) -> bool {
    if !text.contains(RAW_EXTRA_PREFIX) {
        return false;
    }
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return false;
    };
    let Some(extra) = value["@extra"].as_str().map(str::to_string) else {
        return false;
    };
    let waiter = RAW_WAITERS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_mut()
        .and_then(|w| w.remove(&extra));
    if let Some(waiter) = waiter {
        let _ = waiter.send(value);
    }
    true
}

// The symbols tdlib-rs links against, forwarded to the loaded library.

/// `td_create_client_id`, forwarded (0 when no library is loaded).
#[unsafe(no_mangle)]
pub extern "C" fn td_create_client_id() -> c_int {
    match LOADED.get() {
        // SAFETY: resolved from libtdjson with this signature.
        Some(lib) => unsafe { (lib.create_client_id)() },
        None => 0,
    }
}

/// `td_send`, forwarded (dropped when no library is loaded).
///
/// # Safety
/// `request` must be a NUL-terminated string, as tdlib-rs passes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn td_send(client_id: c_int, request: *const c_char) {
    if let Some(lib) = LOADED.get() {
        // SAFETY: the caller's pointer is passed through unchanged.
        unsafe { (lib.send)(client_id, request) }
    }
}

/// `td_receive`, forwarded; answers to raw requests are routed here and skipped.
#[unsafe(no_mangle)]
pub extern "C" fn td_receive(timeout: c_double) -> *const c_char {
    let Some(lib) = LOADED.get() else {
        std::thread::sleep(std::time::Duration::from_secs_f64(timeout.clamp(0.0, 1.0)));
        return std::ptr::null();
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(timeout.max(0.0));
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        // SAFETY: resolved from libtdjson with this signature; the answer is valid until the
        // next td_receive call, which happens only after it was copied or handed on.
        let answer = unsafe { (lib.receive)(left.as_secs_f64()) };
        if answer.is_null() {
            return answer;
        }
        // SAFETY: TDLib returns a NUL-terminated string.
        let text = unsafe { CStr::from_ptr(answer) }.to_string_lossy();
        if !route_raw(&text) {
            return answer;
        }
        if left.is_zero() {
            return std::ptr::null();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many raw requests are waiting for an answer.
    fn raw_waiting() -> usize {
        RAW_WAITERS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(0, HashMap::len)
    }

    #[test]
    fn a_raw_request_given_up_on_leaves_no_waiter_behind() {
        let before = raw_waiting();
        let reply = send_raw(
            0,
            serde_json::json!({"@type": "getOption", "name": "version"}),
        );
        assert_eq!(raw_waiting(), before + 1);
        drop(reply);
        assert_eq!(raw_waiting(), before, "a timed-out request is forgotten");
    }
}
