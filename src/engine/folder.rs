//! A scenario folder as scripts reach it: the scenario file, the modules it imports and the
//! assets it sends. On the host the folder is on disk ([`Disk`]); a worker reads no file at
//! all (its cage forbids it): the host reads each one from the folder of the request it sent
//! and hands it over (see `scenario::runner::worker`), so a script reaches its own folder and
//! nothing else whatever the worker's code does.

use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

/// Whether `path` names a script: `*.rhai`, not hidden, not an editor's definition file
/// (`*.d.rhai`, which `tgscript definitions` writes).
pub fn is_script(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name.ends_with(".rhai") && !name.starts_with('.') && !name.ends_with(".d.rhai")
}

/// Why a path named by a script is not a file inside the scenario folder.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize,
)]
pub enum Outside {
    /// An absolute path (or a Windows separator).
    #[error("absolute paths are not allowed")]
    Absolute,
    /// A `..` component.
    #[error("'..' may not leave the scenario folder")]
    Parent,
    /// A symlink leading out of the folder.
    #[error("it links outside the scenario folder")]
    LinksOut,
    /// No such file.
    #[error("no such file")]
    NotFound,
    /// The script has no scenario folder (see [`NO_FOLDER`]).
    #[error("this script has no scenario folder: it reaches no files")]
    NoFolder,
}

/// The scenario folder of a script that reaches no files (`run_script` of a gateway client
/// other than the admin): imports of files and `asset()` are refused.
pub const NO_FOLDER: &str = "";

/// The real path of `relative` (what a script named) inside `root`, when it is a file there:
/// no absolute path, no `..`, no symlink out. `import` and `asset()` share the rules.
pub fn confined(root: &Path, relative: &Path) -> Result<PathBuf, Outside> {
    if root.as_os_str() == NO_FOLDER {
        return Err(Outside::NoFolder);
    }
    let text = relative.to_string_lossy();
    if relative.is_absolute() || text.starts_with('/') || text.contains('\\') {
        return Err(Outside::Absolute);
    }
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(Outside::Parent);
    }
    let file = root.join(relative);
    let (Ok(real_root), Ok(real_file)) = (root.canonicalize(), file.canonicalize()) else {
        return Err(Outside::NotFound);
    };
    if !real_file.starts_with(&real_root) {
        return Err(Outside::LinksOut);
    }
    Ok(real_file)
}

/// Why a file of the scenario folder could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum FileError {
    /// The name leads outside the folder, or to nothing there.
    #[error("{0}")]
    Outside(Outside),
    /// It holds more than the limit allows.
    #[error("it is larger than {0} bytes")]
    TooLarge(usize),
    /// It is a folder, a device or the like.
    #[error("it is not a file")]
    NotAFile,
    /// Reading it failed (what the system said).
    #[error("{0}")]
    Io(String),
    /// The call has had its share of files.
    #[error("this call was handed its share of files ({files} files, {bytes} bytes)")]
    OverBudget {
        /// The most files a call is handed.
        files: usize,
        /// The most bytes.
        bytes: usize,
    },
}

/// A file of the scenario folder: where it is on the host (shown in errors, watched for
/// reload) and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderFile {
    /// Its real path.
    pub path: PathBuf,
    /// Its bytes.
    #[serde(with = "base64_bytes")]
    pub bytes: Vec<u8>,
}

/// Where a folder's files come from.
pub trait Files: Send + Sync {
    /// The scenario file at `path`, read no further than `max` bytes (0: no limit).
    fn scenario(&self, path: &Path, max: usize) -> Result<Vec<u8>, FileError>;

    /// The file `relative` names inside the folder `root` (no absolute path, no `..`, no
    /// symlink out: [`confined`]), read no further than `max` bytes (0: no limit).
    fn inside(&self, root: &Path, relative: &Path, max: usize) -> Result<FolderFile, FileError>;
}

/// Files read from this machine's disk (the host's way, and inline runners').
#[derive(Debug, Clone, Copy, Default)]
pub struct Disk;

impl Files for Disk {
    fn scenario(&self, path: &Path, max: usize) -> Result<Vec<u8>, FileError> {
        // Named by the operator, not a script: a device is read up to the limit and refused.
        read(
            std::fs::File::open(path).map_err(|e| FileError::Io(e.to_string()))?,
            max,
        )
    }

    fn inside(&self, root: &Path, relative: &Path, max: usize) -> Result<FolderFile, FileError> {
        let real = confined(root, relative).map_err(FileError::Outside)?;
        let file = open(&real)?;
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return Err(FileError::NotAFile);
        }
        let bytes = read(file, max)?;
        Ok(FolderFile { path: real, bytes })
    }
}

/// Open `path` for reading without waiting: a FIFO with no writer fails at once instead of
/// holding the thread.
fn open(path: &Path) -> Result<std::fs::File, FileError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| FileError::Io(e.to_string()))
}

/// `file`, read no further than `max` bytes (0: no limit): a device or a huge file is
/// refused, not read to the end.
fn read(file: std::fs::File, max: usize) -> Result<Vec<u8>, FileError> {
    let most = match max {
        0 => u64::MAX,
        max => max as u64 + 1,
    };
    let mut bytes = Vec::new();
    file.take(most)
        .read_to_end(&mut bytes)
        .map_err(|e| FileError::Io(e.to_string()))?;
    if max > 0 && bytes.len() > max {
        return Err(FileError::TooLarge(max));
    }
    Ok(bytes)
}

/// An engine's scenario folder as its resolver and path-taking builtins (`asset`) read it:
/// the folder of the current call (a worker moves it from call to call) and where its files
/// come from. Clones share both.
#[derive(Clone)]
pub struct Folder {
    root: Arc<RwLock<PathBuf>>,
    files: Arc<RwLock<Arc<dyn Files>>>,
}

impl std::fmt::Debug for Folder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Folder")
            .field("root", &self.root())
            .finish()
    }
}

impl Folder {
    /// The folder `root` on disk.
    pub fn on_disk(root: PathBuf) -> Folder {
        Folder {
            root: Arc::new(RwLock::new(root)),
            files: Arc::new(RwLock::new(Arc::new(Disk))),
        }
    }

    /// The folder of the current call.
    pub fn root(&self) -> PathBuf {
        self.root
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Move to the folder `root`.
    pub fn set_root(&self, root: &Path) {
        *self.root.write().unwrap_or_else(PoisonError::into_inner) = root.to_path_buf();
    }

    /// Take files from `files` from now on.
    pub fn set_files(&self, files: Arc<dyn Files>) {
        *self.files.write().unwrap_or_else(PoisonError::into_inner) = files;
    }

    fn files(&self) -> Arc<dyn Files> {
        self.files
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The scenario file at `path`, at most `max` bytes (0: no limit).
    pub fn scenario(&self, path: &Path, max: usize) -> Result<Vec<u8>, FileError> {
        self.files().scenario(path, max)
    }

    /// The file `relative` names inside the current folder, at most `max` bytes (0: no limit).
    pub fn inside(&self, relative: &Path, max: usize) -> Result<FolderFile, FileError> {
        self.files().inside(&self.root(), relative, max)
    }
}

/// Bytes as base64 text in JSON (the worker's pipe): a third larger, not four times.
mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_crosses_the_pipe_as_base64_and_comes_back_whole() {
        let file = FolderFile {
            path: PathBuf::from("/s/logo.png"),
            bytes: vec![0, 1, 2, 254, 255],
        };
        let json = serde_json::to_string(&file).expect("serializes");
        assert!(json.contains("\"AAEC/v8=\""), "{json}");
        let back: FolderFile = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, file);
        assert!(serde_json::from_str::<FolderFile>(r#"{"path":"/a","bytes":"%%"}"#).is_err());
    }

    #[test]
    fn disk_reads_inside_the_folder_only_and_within_the_limit() {
        let dir = tempfile::tempdir().expect("a folder");
        std::fs::write(dir.path().join("a.txt"), "hello").expect("write");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        let read = Disk
            .inside(dir.path(), Path::new("a.txt"), 0)
            .expect("read");
        assert_eq!(read.bytes, b"hello");
        assert_eq!(
            Disk.inside(dir.path(), Path::new("a.txt"), 3),
            Err(FileError::TooLarge(3))
        );
        assert_eq!(
            Disk.inside(dir.path(), Path::new("../etc/passwd"), 0),
            Err(FileError::Outside(Outside::Parent))
        );
        assert_eq!(
            Disk.inside(dir.path(), Path::new("sub"), 0),
            Err(FileError::NotAFile)
        );
        assert_eq!(
            Disk.inside(Path::new(NO_FOLDER), Path::new("a"), 0),
            Err(FileError::Outside(Outside::NoFolder))
        );
    }
}
