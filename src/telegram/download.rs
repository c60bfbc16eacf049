//! Files the bot downloads (`download(file_id)`): Bot API `getFile` through the bot's client
//! (its layers: flood control, retries), then the bytes from
//! `<api_url>/file/bot<token>/<file_path>` over the same HTTP client and timeout, streamed and
//! cut off at a cap ([`Cap`]): nothing past it is buffered.
//!
//! A local Bot API server (`telegram-bot-api --local`) answers `getFile` with an absolute
//! path on its own disk. The rule for such a path ([`locate`]): it is read from this host's
//! disk only when `[files] local_dir` is set and the path, symlinks resolved, is a regular
//! file inside this bot's own folder of it (`<local_dir>/<token>/`, where the server keeps a
//! bot's files); a path outside that folder is refused and nothing is read, so neither a
//! hostile Bot API answer nor a tenant's `api_url` can read the host's files or another
//! bot's. Without `local_dir`, an absolute path is asked of the server over HTTP like a
//! relative one. A path with `.`, `..`, empty or control-character segments is refused
//! either way.
//!
//! The token is part of the file URL and of a local server's paths: no error here holds
//! either (reqwest's errors are stripped of the URL, paths are never repeated).

use super::bot::BotClient;
use super::call::BotError;
use super::http::REQUEST_TIMEOUT;
use super::upload::Upload;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::io::Read;
use std::path::{Path, PathBuf};

/// `[files]`: what `download(file_id)` may fetch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FilesConfig {
    /// The largest file `download` fetches, in bytes (default 20 MiB, what Telegram's
    /// `getFile` serves; 0 = no limit of its own). A larger one is refused, and a body that
    /// runs past it is cut off there. The blob a script gets is held to
    /// `[limits] max_array_size` too: the smaller of the two caps applies.
    pub max_download_size: usize,
    /// A local Bot API server's working directory (its `--dir`), as this host sees it: an
    /// absolute path. When set, a file the server answers with an absolute path inside
    /// `<local_dir>/<token>/` is read from disk; one outside it is refused. Unset (the
    /// default): absolute paths are asked of the server over HTTP, and nothing is read from
    /// this host's disk.
    pub local_dir: Option<PathBuf>,
}

/// `max_download_size` by default: 20 MiB.
pub const DEFAULT_MAX_DOWNLOAD: usize = 20 * 1024 * 1024;

impl Default for FilesConfig {
    fn default() -> Self {
        Self {
            max_download_size: DEFAULT_MAX_DOWNLOAD,
            local_dir: None,
        }
    }
}

/// The most bytes one download may bring, and the config key that sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cap {
    /// The bytes (`usize::MAX`: no cap).
    pub bytes: usize,
    /// The key to raise for more.
    pub key: &'static str,
}

impl Cap {
    /// The smaller of `[files] max_download_size` and `[limits] max_array_size` (a blob is
    /// held to it), each 0 for none.
    pub fn of(config: &FilesConfig, max_array_size: usize) -> Self {
        let caps = [
            (config.max_download_size, "[files] max_download_size"),
            (max_array_size, "[limits] max_array_size"),
        ];
        caps.into_iter()
            .filter(|(bytes, _)| *bytes > 0)
            .min_by_key(|(bytes, _)| *bytes)
            .map_or(
                Self {
                    bytes: usize::MAX,
                    key: "[files] max_download_size",
                },
                |(bytes, key)| Self { bytes, key },
            )
    }

    /// The refusal of a file of `size` bytes (when known) over the cap.
    fn over(self, size: Option<u64>) -> DownloadError {
        DownloadError::TooBig {
            size,
            cap: self.bytes,
            key: self.key,
        }
    }
}

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// `getFile` failed: Telegram's words (an unknown `file_id` is its 400).
    #[error("{0}")]
    GetFile(BotError),
    /// The file is larger than the cap.
    #[error("the file is {} over {key} ({cap} bytes): nothing past the cap was read; raise {key} to download it", size.map_or("larger than the cap,".to_string(), |s| format!("{s} bytes,")))]
    TooBig {
        /// Its size, when the server said it.
        size: Option<u64>,
        /// The cap in bytes.
        cap: usize,
        /// The key that sets it.
        key: &'static str,
    },
    /// `getFile` answered no `file_path`.
    #[error(
        "the Bot API gave no file_path for this file (Telegram's servers give none for files over 20 MB): a local Bot API server serves larger files"
    )]
    NoPath,
    /// The `file_path` is not a plain path.
    #[error(
        "the Bot API answered a file_path with empty, '.', '..', '\\' or control-character parts: refused, nothing was fetched"
    )]
    BadPath,
    /// An absolute `file_path` outside this bot's folder of `[files] local_dir`.
    #[error(
        "the Bot API answered a file on its disk outside this bot's folder of [files] local_dir (<local_dir>/<token>/): refused, nothing was read; set [files] local_dir to the local Bot API server's --dir"
    )]
    Outside,
    /// The file inside `local_dir` could not be read.
    #[error(
        "the file the local Bot API server answered cannot be read from [files] local_dir: {0}"
    )]
    Disk(String),
    /// The file server answered an HTTP error.
    #[error("the Bot API's file server answered HTTP {0}")]
    Status(u16),
    /// The download did not complete (connection, TLS, timeout).
    #[error("network error while downloading the file: {0}")]
    Network(String),
}

impl DownloadError {
    /// An HTTP-like code: 4xx for a refusal (final: the file is not there, or too big), none
    /// for what may go better when tried again.
    pub fn code(&self) -> Option<i64> {
        match self {
            DownloadError::GetFile(e) => e.code(),
            DownloadError::TooBig { .. } => Some(413),
            DownloadError::NoPath => Some(400),
            DownloadError::BadPath | DownloadError::Outside => Some(403),
            DownloadError::Status(status) if *status < 500 => Some(i64::from(*status)),
            DownloadError::Status(_) | DownloadError::Disk(_) | DownloadError::Network(_) => None,
        }
    }
}

/// Where a file's bytes are fetched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// From the server: these segments after `/file/bot<token>/`.
    Server(Vec<String>),
    /// From this host's disk: a regular file inside the bot's folder of `local_dir`.
    Disk(PathBuf),
}

/// Where the file `getFile` answered `file_path` for is fetched from, with `folder` the bot's
/// folder of `[files] local_dir` (`<local_dir>/<token>`) when it is set (see the module's
/// rule).
pub fn locate(file_path: &str, folder: Option<&Path>) -> Result<Source, DownloadError> {
    let (absolute, rest) = match file_path.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, file_path),
    };
    let segments: Vec<String> = rest.split('/').map(str::to_string).collect();
    let plain = |s: &String| {
        !s.is_empty() && s != "." && s != ".." && !s.chars().any(|c| c == '\\' || c.is_control())
    };
    if !segments.iter().all(plain) {
        return Err(DownloadError::BadPath);
    }
    let Some(folder) = folder.filter(|_| absolute) else {
        return Ok(Source::Server(segments));
    };
    let path = Path::new(file_path);
    if !path.starts_with(folder) {
        return Err(DownloadError::Outside);
    }
    let real_folder = folder
        .canonicalize()
        .map_err(|e| DownloadError::Disk(format!("its folder cannot be opened ({})", e.kind())))?;
    match path.canonicalize() {
        Ok(real) if real.starts_with(&real_folder) && real.is_file() => Ok(Source::Disk(real)),
        Ok(_) => Err(DownloadError::Outside),
        // The host does not see it (the server runs elsewhere): asked of the server.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Source::Server(segments)),
        Err(e) => Err(DownloadError::Disk(e.kind().to_string())),
    }
}

/// The name a downloaded file goes by: the last part of its path.
fn file_name(file_path: &str) -> String {
    file_path
        .rsplit('/')
        .next()
        .filter(|name| !name.is_empty())
        .unwrap_or("file")
        .to_string()
}

/// At most `cap` bytes read from `reader`, or the cap's refusal once there are more.
fn read_capped(reader: impl Read, cap: Cap) -> Result<Vec<u8>, DownloadError> {
    let most = u64::try_from(cap.bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut bytes = Vec::new();
    reader
        .take(most)
        .read_to_end(&mut bytes)
        .map_err(|e| DownloadError::Disk(e.kind().to_string()))?;
    match bytes.len() > cap.bytes {
        true => Err(cap.over(None)),
        false => Ok(bytes),
    }
}

impl BotClient {
    /// The file Telegram knows as `file_id`, at most `cap` bytes, as an upload named after
    /// its path; `local_dir` is `[files] local_dir`.
    pub async fn download(
        &self,
        file_id: &str,
        cap: Cap,
        local_dir: Option<&Path>,
    ) -> Result<Upload, DownloadError> {
        let file = self
            .call("getFile", &json!({ "file_id": file_id }))
            .await
            .map_err(DownloadError::GetFile)?;
        if let Some(size) = file.get("file_size").and_then(Value::as_u64)
            && size > u64::try_from(cap.bytes).unwrap_or(u64::MAX)
        {
            return Err(cap.over(Some(size)));
        }
        let file_path = file
            .get("file_path")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .ok_or(DownloadError::NoPath)?;
        let bot = self.teloxide();
        let folder = local_dir.map(|dir| dir.join(bot.token()));
        let bytes = match locate(file_path, folder.as_deref())? {
            Source::Disk(path) => {
                let file = std::fs::File::open(&path)
                    .map_err(|e| DownloadError::Disk(e.kind().to_string()))?;
                read_capped(file, cap)?
            }
            Source::Server(segments) => self.fetch(&segments, cap).await?,
        };
        Ok(Upload {
            filename: file_name(file_path),
            bytes,
        })
    }

    /// The bytes at `/file/bot<token>/<segments>` of the Bot API server, at most `cap`.
    async fn fetch(&self, segments: &[String], cap: Cap) -> Result<Vec<u8>, DownloadError> {
        let bot = self.teloxide();
        let mut url = bot.api_url();
        url.path_segments_mut()
            .map_err(|_| DownloadError::Network("the Bot API URL cannot have a path".into()))?
            .pop_if_empty()
            .push("file")
            .push(&format!("bot{}", bot.token()))
            .extend(segments);
        // reqwest's errors name the URL, which holds the token: never kept.
        let failed = |e: reqwest::Error| DownloadError::Network(e.without_url().to_string());
        let mut response = bot
            .client()
            .get(url)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(failed)?;
        let status = response.status();
        if !status.is_success() {
            return Err(DownloadError::Status(status.as_u16()));
        }
        let limit = u64::try_from(cap.bytes).unwrap_or(u64::MAX);
        if let Some(length) = response.content_length().filter(|l| *l > limit) {
            return Err(cap.over(Some(length)));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if bytes.len().saturating_add(chunk.len()) > cap.bytes {
                return Err(cap.over(None));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_the_smaller_limit_and_names_its_key() {
        let config = FilesConfig::default();
        assert_eq!(
            Cap::of(&config, 10_000),
            Cap {
                bytes: 10_000,
                key: "[limits] max_array_size"
            }
        );
        assert_eq!(Cap::of(&config, 0).bytes, DEFAULT_MAX_DOWNLOAD);
        assert_eq!(Cap::of(&config, 0).key, "[files] max_download_size");
        let none = FilesConfig {
            max_download_size: 0,
            ..config
        };
        assert_eq!(Cap::of(&none, 0).bytes, usize::MAX);
        let error = Cap::of(&none, 5).over(Some(9)).to_string();
        assert!(
            error.contains("9 bytes, over [limits] max_array_size (5 bytes)"),
            "{error}"
        );
    }

    #[test]
    fn relative_paths_go_to_the_server_and_odd_ones_are_refused() {
        assert_eq!(
            locate("photos/file_1.jpg", None).ok(),
            Some(Source::Server(vec!["photos".into(), "file_1.jpg".into()]))
        );
        for odd in [
            "",
            "../bot/getMe",
            "photos/../../x",
            "photos//x",
            "./x",
            "a\\b",
            "a\nb",
            "/srv/a/../b",
        ] {
            assert!(
                matches!(locate(odd, None), Err(DownloadError::BadPath)),
                "{odd:?}"
            );
        }
        // Without local_dir an absolute path is the server's business.
        assert_eq!(
            locate("/etc/passwd", None).ok(),
            Some(Source::Server(vec!["etc".into(), "passwd".into()]))
        );
    }

    #[test]
    fn an_absolute_path_is_read_only_inside_the_bots_folder() {
        let dir = std::env::temp_dir().join(format!("tgscript-download-{}", std::process::id()));
        let folder = dir.join("123:abc");
        std::fs::create_dir_all(folder.join("documents")).expect("folders");
        std::fs::create_dir_all(dir.join("456:def")).expect("another bot's folder");
        let inside = folder.join("documents/file_1.pdf");
        std::fs::write(&inside, b"pdf").expect("a file");
        std::fs::write(dir.join("456:def/secret"), b"theirs").expect("another bot's file");
        let text = |p: &Path| p.to_string_lossy().into_owned();
        assert_eq!(
            locate(&text(&inside), Some(&folder)).ok(),
            inside.canonicalize().ok().map(Source::Disk)
        );
        for outside in [
            "/etc/passwd".to_string(),
            text(&dir.join("456:def/secret")),
            text(&dir),
        ] {
            assert!(
                matches!(locate(&outside, Some(&folder)), Err(DownloadError::Outside)),
                "{outside}"
            );
        }
        #[cfg(unix)]
        {
            let link = folder.join("documents/link");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink("/etc/passwd", &link).expect("a symlink");
            assert!(matches!(
                locate(&text(&link), Some(&folder)),
                Err(DownloadError::Outside)
            ));
        }
        // Inside the folder but not on this host: asked of the server.
        assert!(matches!(
            locate(&text(&folder.join("documents/elsewhere")), Some(&folder)),
            Ok(Source::Server(_))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reading_stops_past_the_cap() {
        let cap = Cap {
            bytes: 4,
            key: "[files] max_download_size",
        };
        assert_eq!(read_capped(&b"abcd"[..], cap).ok(), Some(b"abcd".to_vec()));
        assert!(matches!(
            read_capped(std::io::repeat(1), cap),
            Err(DownloadError::TooBig { cap: 4, .. })
        ));
        assert_eq!(file_name("/srv/123:abc/photos/file_7.jpg"), "file_7.jpg");
    }
}
