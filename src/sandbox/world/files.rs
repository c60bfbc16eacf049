//! Files in the sandbox: every file the bot uploads and every photo or document a sandbox
//! user sends is kept under its `file_id`; `getFile` answers its `file_path` (and an unknown
//! id gets Telegram's 400), and the server hands its bytes out at
//! `/file/bot<token>/<file_path>`. Like a local Bot API server (`--local`), the world can keep
//! its files on disk instead ([`World::keep_files_in`]) and answer absolute paths; and like a
//! hostile or broken one, it can answer another path for a file
//! ([`World::answer_file_path`]) or send a file whose size it does not tell and whose body
//! never ends ([`World::keep_endless_file`]).

use super::{Refusal, World};
use crate::telegram::upload::{Upload, sha256_hex};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// What a file holds.
#[derive(Debug, Clone)]
pub enum Content {
    /// These bytes.
    Bytes(Arc<Vec<u8>>),
    /// Bytes without end, their size untold.
    Endless,
}

/// One kept file.
#[derive(Debug, Clone)]
struct Kept {
    content: Content,
    /// Its path on the server, relative (`documents/file_3.pdf`).
    path: String,
}

/// The files of the world.
#[derive(Debug, Default)]
pub(super) struct Files {
    by_id: BTreeMap<String, Kept>,
    /// Files kept so far (each path gets the next number).
    count: u64,
    /// The bot's folder of a simulated local Bot API server: files are written there and
    /// `getFile` answers absolute paths.
    local: Option<PathBuf>,
    /// Paths answered instead of a file's own, by `file_id`.
    misplaced: BTreeMap<String, String>,
}

/// The `file_id` the sandbox gives a file's content.
pub(super) fn file_id(bytes: &[u8]) -> String {
    let hex = sha256_hex(bytes);
    format!("sandbox-file-{}", &hex[..24])
}

/// `len` bytes generated from `seed`, the same for the same seed: the content of what a
/// sandbox user sends.
pub fn generated(seed: &str, len: usize) -> Vec<u8> {
    let line = format!("sandbox file {seed}\n");
    line.bytes().cycle().take(len).collect()
}

/// The folder Telegram keeps a kind of file in (`photos`, `documents`, …).
fn folder_of(kind: &str) -> String {
    match kind {
        "photo" => "photos".into(),
        "video_note" => "video_notes".into(),
        other => format!("{other}s"),
    }
}

impl World {
    /// Keep `bytes` as a file of `kind` (`photo`, `document`, …) named `name`; returns its
    /// `file_id` (the same bytes, the same id).
    pub(super) fn keep_file(&mut self, bytes: Vec<u8>, kind: &str, name: Option<&str>) -> String {
        let id = file_id(&bytes);
        if !self.files.by_id.contains_key(&id) {
            self.files.count += 1;
            let extension = name
                .and_then(|n| n.rsplit_once('.'))
                .map(|(_, ext)| format!(".{ext}"))
                .filter(|ext| ext.chars().all(|c| c == '.' || c.is_ascii_alphanumeric()))
                .unwrap_or_default();
            let path = format!("{}/file_{}{extension}", folder_of(kind), self.files.count);
            let content = Content::Bytes(Arc::new(bytes));
            self.files.by_id.insert(id.clone(), Kept { content, path });
        }
        id
    }

    /// Keep an upload the bot sent as a file of `kind`; returns its `file_id`.
    pub(super) fn keep_upload(&mut self, upload: &Upload, kind: &str) -> String {
        self.keep_file(upload.bytes.clone(), kind, Some(&upload.filename))
    }

    /// Keep a document whose size the server does not tell and whose body never ends (as a
    /// broken or hostile server would send it); returns its `file_id`.
    pub fn keep_endless_file(&mut self) -> String {
        self.files.count += 1;
        let id = format!("sandbox-endless-{}", self.files.count);
        let path = format!("documents/file_{}", self.files.count);
        let content = Content::Endless;
        self.files.by_id.insert(id.clone(), Kept { content, path });
        id
    }

    /// Keep files in `folder` (the bot's folder of a local Bot API server's `--dir`) from now
    /// on: `getFile` writes the file there and answers its absolute path, as
    /// `telegram-bot-api --local` does.
    pub fn keep_files_in(&mut self, folder: PathBuf) {
        self.files.local = Some(folder);
    }

    /// Answer `path` as the `file_path` of `file_id` from now on (a hostile or broken Bot API
    /// server).
    pub fn answer_file_path(&mut self, file_id: &str, path: &str) {
        self.files
            .misplaced
            .insert(file_id.to_string(), path.to_string());
    }

    /// The content of the file at `path` (relative, as `getFile` answered it), for the
    /// server to hand out.
    pub fn file_at(&self, path: &str) -> Option<Content> {
        self.files
            .by_id
            .values()
            .find(|kept| kept.path == path)
            .map(|kept| kept.content.clone())
    }

    /// `getFile`: the file's `File` object, its path relative, or absolute inside the
    /// local server's folder (written there first); Telegram's 400 for an unknown id.
    pub(super) fn get_file(&mut self, params: &Map<String, Value>) -> Result<Value, Refusal> {
        let id = params
            .get("file_id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| Refusal::bad_request("file_id is empty"))?;
        let kept = self
            .files
            .by_id
            .get(id)
            .ok_or_else(|| Refusal::bad_request("invalid file_id"))?;
        let mut path = kept.path.clone();
        let mut file = json!({"file_id": id, "file_unique_id": format!("u{id}")});
        if let Content::Bytes(bytes) = &kept.content {
            file["file_size"] = bytes.len().into();
            if let Some(folder) = &self.files.local {
                let on_disk = folder.join(&kept.path);
                let written = on_disk
                    .parent()
                    .map_or(Ok(()), std::fs::create_dir_all)
                    .and_then(|()| std::fs::write(&on_disk, bytes.as_slice()));
                if written.is_err() {
                    return Err(Refusal {
                        code: 500,
                        description: "Internal Server Error: can't save the file".into(),
                        parameters: None,
                    });
                }
                path = on_disk.to_string_lossy().into_owned();
            }
        }
        file["file_path"] = self.files.misplaced.get(id).cloned().unwrap_or(path).into();
        Ok(file)
    }
}
