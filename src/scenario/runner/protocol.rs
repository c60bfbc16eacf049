//! The pipe between the host and a script worker: each message is one frame, a little-endian
//! `u32` length and that many bytes of JSON. The host sends a [`Setup`] first and then one
//! request at a time; while a request runs, the worker asks for its effects and the host
//! answers each before the worker goes on.

use super::confine::{Cage, Confinement};
use crate::effects::{Effect, Refusal};
use crate::engine::{Limits, ScriptError};
use crate::scenario::Handler;
use crate::telegram::UpdateContext;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The largest frame either side accepts; a worker that sends more is stopped.
pub const MAX_FRAME: usize = 64 * 1024 * 1024;

/// The first frame a worker reads: the limits every call runs under and the OS limits the
/// worker puts on itself before it runs any script.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Setup {
    /// `[limits]`.
    pub limits: Limits,
    /// The cage it puts itself in.
    pub cage: Cage,
}

/// A request from the host.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToWorker {
    /// Compile the scenario at `path` (imports from the folder `root`) and run its
    /// `on_load`: answered by [`Outcome::Loaded`].
    Load {
        /// The scenario folder.
        root: PathBuf,
        /// The scenario file.
        path: PathBuf,
        /// What its state namespace begins with (its bot's).
        prefix: String,
    },
    /// Call `handler` of the scenario at `path` as the host loaded it (`fingerprint`).
    Call {
        /// The scenario folder.
        root: PathBuf,
        /// The scenario file.
        path: PathBuf,
        /// The version the host runs; the worker refuses to run another.
        fingerprint: u64,
        /// The scenario's state namespace.
        namespace: String,
        /// Which function: a handler, or a job's.
        function: String,
        /// Its arguments.
        args: Vec<Value>,
        /// The update being handled.
        update: Option<UpdateContext>,
    },
    /// Evaluate `script` with `vars` in scope (the gateway's `run_script`): answered by
    /// [`Outcome::Evaluated`].
    Eval {
        /// The scenario folder imports resolve against.
        root: PathBuf,
        /// The script.
        script: String,
        /// Variables in scope.
        vars: Map<String, Value>,
    },
    /// Check the scenario at `path` as a load would (imports from the folder `root`, whose
    /// top levels run): answered by [`Outcome::Checked`]. Its builtins act on nothing.
    Check {
        /// The scenario folder.
        root: PathBuf,
        /// The scenario file.
        path: PathBuf,
    },
    /// The answer to the worker's last [`FromWorker::Effect`].
    Answer(Result<Value, Refusal>),
}

impl ToWorker {
    /// The scenario folder of this request and its scenario file, if it has them: the only
    /// files its worker may be handed.
    pub fn folder(&self) -> Option<(&Path, Option<&Path>)> {
        match self {
            ToWorker::Load { root, path, .. }
            | ToWorker::Call { root, path, .. }
            | ToWorker::Check { root, path } => Some((root, Some(path))),
            ToWorker::Eval { root, .. } => Some((root, None)),
            ToWorker::Answer(_) => None,
        }
    }
}

/// A message from a worker.
#[derive(Debug, Serialize, Deserialize)]
pub enum FromWorker {
    /// Set up, with a description of the OS limits in force.
    Ready {
        /// Each layer of its cage and whether it is in force.
        confinement: Confinement,
    },
    /// The request's script is compiled; its call starts now (the host's deadline starts
    /// again).
    Compiled,
    /// The running script asks for an effect; the host answers with [`ToWorker::Answer`].
    Effect(Effect<'static>),
    /// The running script asks for a file of the request's scenario folder (`name` inside
    /// it; `None`: the request's scenario file), at most `max` bytes (0: as much as the host
    /// allows): the worker reads no file itself, and the host reads only from the folder of
    /// the request it sent. Answered with a `Result<FolderFile, FileError>` as JSON.
    File {
        /// The path inside the folder, as the script named it.
        name: Option<PathBuf>,
        /// The most bytes the worker's limit allows.
        max: usize,
    },
    /// What the worker's log kept since its last message (scripts' prints, warnings,
    /// errors), for the host's [`crate::activity`]; sent before each effect and before
    /// `Done`, so it comes in order with the calls.
    Activity(Vec<crate::activity::Entry>),
    /// The request finished.
    Done(Result<Outcome, WireError>),
}

/// [`FromWorker::Effect`] as the worker writes it, borrowing the effect: the same frame.
#[derive(Serialize)]
pub enum EffectFrame<'a> {
    /// The effect asked for.
    Effect(&'a Effect<'a>),
}

/// What a finished request returns.
#[derive(Debug, Serialize, Deserialize)]
pub enum Outcome {
    /// A scenario compiled (and its `on_load` ran).
    Loaded {
        /// Its handlers.
        handlers: Vec<Handler>,
        /// The module files it imported.
        imports: Vec<PathBuf>,
        /// The version compiled.
        fingerprint: u64,
        /// What it declared in constants.
        declared: crate::scenario::Declared,
    },
    /// A handler returned.
    Returned {
        /// It called `stop()`.
        #[serde(default)]
        claimed: bool,
    },
    /// What a check found (nothing: it loads).
    Checked {
        /// Every problem, in order.
        problems: Vec<WireError>,
    },
    /// A script's value and printed lines.
    Evaluated {
        /// The value as JSON.
        value: Value,
        /// Lines printed.
        printed: Vec<String>,
    },
}

/// A [`ScriptError`] as it crosses the pipe.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireError {
    file: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
    message: String,
    limit: Option<String>,
    function: Option<String>,
    thrown: Option<Value>,
    /// Whether trying again may succeed (see `ScriptError::is_transient`).
    #[serde(default)]
    transient: bool,
}

impl From<ScriptError> for WireError {
    fn from(e: ScriptError) -> Self {
        Self {
            thrown: e.thrown.and_then(|t| serde_json::to_value(&*t).ok()),
            file: e.file,
            line: e.line,
            column: e.column,
            message: e.message,
            limit: e.limit.map(str::to_string),
            function: e.function,
            transient: e.transient,
        }
    }
}

impl From<WireError> for ScriptError {
    fn from(e: WireError) -> Self {
        let mut error = ScriptError::new(e.message);
        error.file = e.file;
        error.line = e.line;
        error.column = e.column;
        error.limit = e.limit.as_deref().and_then(Limits::key);
        error.function = e.function;
        error.thrown = e
            .thrown
            .and_then(|t| rhai::serde::to_dynamic(t).ok())
            .map(Box::new);
        error.transient = e.transient;
        error
    }
}

/// Write `message` as one frame.
pub fn write_frame(out: &mut impl Write, message: &impl Serialize) -> io::Result<()> {
    let mut frame = vec![0; 4];
    serde_json::to_writer(&mut frame, message)?;
    let len = u32::try_from(frame.len() - 4)
        .ok()
        .filter(|&n| n as usize <= MAX_FRAME)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "message too large"))?;
    frame[..4].copy_from_slice(&len.to_le_bytes());
    out.write_all(&frame)?;
    out.flush()
}

/// Read one frame; `None` at the end of the stream.
pub fn read_frame<T: DeserializeOwned>(input: &mut impl Read) -> io::Result<Option<T>> {
    let mut len = [0; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes (the limit is {MAX_FRAME})"),
        ));
    }
    let mut body = vec![0; len];
    input.read_exact(&mut body)?;
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_oversized_ones_are_refused() {
        let mut pipe = Vec::new();
        write_frame(&mut pipe, &FromWorker::Compiled).expect("write");
        write_frame(&mut pipe, &FromWorker::Effect(Effect::Now)).expect("write");
        let params = serde_json::json!({"chat_id": 1, "text": "hi"});
        let borrowed = Effect::Bot {
            command: "reply".into(),
            method: "sendMessage".into(),
            params: std::borrow::Cow::Borrowed(&params),
        };
        write_frame(&mut pipe, &EffectFrame::Effect(&borrowed)).expect("write");
        let mut input = pipe.as_slice();
        assert!(matches!(
            read_frame::<FromWorker>(&mut input),
            Ok(Some(FromWorker::Compiled))
        ));
        assert!(matches!(
            read_frame::<FromWorker>(&mut input),
            Ok(Some(FromWorker::Effect(Effect::Now)))
        ));
        match read_frame::<FromWorker>(&mut input) {
            Ok(Some(FromWorker::Effect(Effect::Bot {
                method,
                params: read,
                ..
            }))) => {
                assert_eq!((method.as_ref(), read.as_ref()), ("sendMessage", &params));
            }
            _ => panic!("a borrowed effect frame reads as FromWorker::Effect"),
        }
        assert!(matches!(read_frame::<FromWorker>(&mut input), Ok(None)));
        let huge = ((MAX_FRAME + 1) as u32).to_le_bytes();
        assert!(read_frame::<FromWorker>(&mut huge.as_slice()).is_err());
    }

    #[test]
    fn a_script_error_keeps_its_limit_and_thrown_value_across_the_pipe() {
        let mut error = ScriptError::new("time limit exceeded").in_file("a.rhai");
        error.limit = Some("timeout_ms");
        error.line = Some(3);
        error.thrown = Some(Box::new(rhai::Dynamic::from("boom")));
        let back = ScriptError::from(WireError::from(error.clone()));
        assert_eq!(back.to_string(), error.to_string());
        assert_eq!(back.limit, Some("timeout_ms"));
        assert_eq!(back.thrown.map(|t| t.to_string()), Some("boom".into()));
    }
}
