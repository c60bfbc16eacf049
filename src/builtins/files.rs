//! Files a script sends and gets: `asset("logo.png")` reads a file of the scenario folder
//! (the same confinement as `import`, at most `[limits] max_asset_size`) into an [`Asset`],
//! an asset or a blob given to a builtin becomes an upload ([`to_json`]), and
//! `download(file_id)` brings a file from Telegram as a blob.

use super::{RhaiResult, answer, builtin, context, throw};
use crate::engine::folder::{FileError, Folder, Outside};
use crate::request::CommandError;
use crate::telegram::upload::Upload;
use rhai::{
    Blob, Dynamic, EvalAltResult, FuncRegistration, INT, Module, NativeCallContext, Position,
};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

/// A file of the scenario folder, read by `asset()`: its name and bytes. Scripts see `name`
/// and `size`; builtins upload it. Unlike a blob, its size is not held to
/// `[limits] max_array_size` (scripts cannot change it byte by byte).
#[derive(Debug, Clone)]
pub struct Asset {
    name: String,
    bytes: Arc<Vec<u8>>,
}

impl Asset {
    /// The upload it is sent as.
    fn upload(&self) -> Upload {
        Upload {
            filename: self.name.clone(),
            bytes: self.bytes.to_vec(),
        }
    }
}

const ASSET: &str = r#"
Read a file of the scenario's folder, to send as a photo, a document or the chat photo. The
path is relative to the folder (subfolders allowed; absolute paths, `..` and symlinks out are
refused, as for `import`); a file over `[limits] max_asset_size` (10 MiB) is refused. The value
has `name` (the file name Telegram shows) and `size` (bytes).

# Example
```rhai
let logo = asset("logo.png");
print(`${logo.name}: ${logo.size} bytes`);
send_photo(logo, #{caption: "Our new logo"});
```
"#;

const DOWNLOAD: &str = r#"
Download the file Telegram knows as `file_id` (a photo's, a document's, … from a message the
bot received or sent) and return its bytes as a blob. The host asks the Bot API (`getFile`) and
fetches the file; a file larger than `[files] max_download_size` (20 MiB) or than a blob may be
(`[limits] max_array_size`, 10,000 bytes by default: raise it for real files) is refused, with
the key to raise. The blob can be sent again (`send_document(blob)`, `send_photo(blob)`) or
posted (`http_post(url, blob)`, or inside a map as a multipart file). A handler run again from
the inbox downloads the file again (the journal keeps its digest, not its bytes).

# Example
```rhai
let sent = send_document(blob(5, 0x41));        // the bot uploads a file…
let bytes = download(sent.document.file_id);    // …and reads it back
print(`${bytes.len()} bytes: ${bytes.as_string()}`);
```
"#;

/// The module holding `asset`, reading from the engine's scenario folder `folder` (the
/// current call's: a worker moves it from call to call) and no file over `max_size` bytes (0:
/// no limit); one per engine.
pub(super) fn module(folder: Folder, max_size: usize) -> Module {
    let mut module = Module::new();
    builtin("asset", &["path: String", "Asset"], ASSET)
        .set_into_module(&mut module, move |path: &str| -> RhaiResult {
            read(&folder, path, max_size).map(Dynamic::from)
        });
    builtin("download", &["file_id: String", "Blob"], DOWNLOAD).set_into_module(
        &mut module,
        |ctx: NativeCallContext, file_id: &str| -> RhaiResult {
            download(&ctx, file_id).map(Dynamic::from_blob)
        },
    );
    FuncRegistration::new_getter("name")
        .with_params_info(["asset: &mut Asset", "String"])
        .with_comments(["/// The file name Telegram shows."])
        .set_into_module(&mut module, |asset: &mut Asset| asset.name.clone());
    FuncRegistration::new_getter("size")
        .with_params_info(["asset: &mut Asset", "INT"])
        .with_comments(["/// The size in bytes."])
        .set_into_module(&mut module, |asset: &mut Asset| asset.bytes.len() as INT);
    module
}

/// The bytes of the file Telegram knows as `file_id`, through the call's effects.
fn download(ctx: &NativeCallContext, file_id: &str) -> Result<Blob, Box<EvalAltResult>> {
    const NAME: &str = "download";
    if file_id.trim().is_empty() {
        return Err(throw(&CommandError::invalid(
            NAME,
            "file_id is empty: pass the file_id of a message's file (msg.document.file_id, msg.photo[-1].file_id)",
        )));
    }
    let effects = context(ctx).effects.clone();
    let mut bytes = Blob::new();
    // The answer is the unit: the bytes come back through `bytes`, never as a map.
    let _unit: Dynamic = answer(|| {
        bytes = effects.download(NAME, file_id)?.bytes;
        Ok(serde_json::Value::Null)
    })?;
    Ok(bytes)
}

/// The file `path` names inside `folder`, checked and read.
fn read(folder: &Folder, path: &str, max_size: usize) -> Result<Asset, Box<EvalAltResult>> {
    let fail = |why: String| -> Box<EvalAltResult> {
        EvalAltResult::ErrorRuntime(why.into(), Position::NONE).into()
    };
    // Named as the script named it: where the folder is on the host is not the script's
    // business.
    let read = folder
        .inside(Path::new(path), max_size)
        .map_err(|e| match e {
            FileError::Outside(Outside::NotFound) => fail(format!(
                "asset \"{path}\" not found: no such file in the scenario folder"
            )),
            FileError::Outside(refused) => fail(format!(
                "asset \"{path}\" refused: {refused}; name a file inside the scenario folder"
            )),
            FileError::TooLarge(_) => fail(format!(
                "asset \"{path}\" is larger than {max_size} bytes ([limits] max_asset_size)"
            )),
            FileError::NotAFile => fail(format!("asset \"{path}\" is not a file")),
            FileError::Io(e) => fail(format!("asset \"{path}\" cannot be read: {e}")),
            over @ FileError::OverBudget { .. } => {
                fail(format!("asset \"{path}\" refused: {over}"))
            }
        })?;
    let name = read
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    Ok(Asset {
        name,
        bytes: Arc::new(read.bytes),
    })
}

/// `value` as request JSON, assets and blobs (anywhere in it) as uploads; a blob is named
/// after the field it is given as. `None` when something in it has no JSON form.
pub(super) fn to_json(key: &str, value: &Dynamic) -> Option<Value> {
    if let Some(asset) = value.read_lock::<Asset>() {
        return Some(asset.upload().to_json());
    }
    if let Some(blob) = value.read_lock::<Blob>() {
        let upload = Upload {
            filename: key.to_string(),
            bytes: blob.clone(),
        };
        return Some(upload.to_json());
    }
    if let Some(map) = value.read_lock::<rhai::Map>() {
        return map
            .iter()
            .map(|(k, v)| Some((k.to_string(), to_json(k, v)?)))
            .collect::<Option<serde_json::Map<_, _>>>()
            .map(Value::Object);
    }
    if let Some(array) = value.read_lock::<rhai::Array>() {
        return array
            .iter()
            .map(|v| to_json(key, v))
            .collect::<Option<Vec<_>>>()
            .map(Value::Array);
    }
    serde_json::to_value(value).ok()
}
