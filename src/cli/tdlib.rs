//! `tgscript tdlib install` / `tdlib path`: obtain libtdjson 1.8.61 (no npm needed: the
//! package's tarball is fetched from the npm registry over HTTPS and checked against a
//! pinned SHA-512), show which one loads.

use crate::accounts::tdjson::{self, LIBRARY_FILE, NPM_PACKAGE, TDLIB_VERSION};
use crate::config::{Config, data_dir};
use anyhow::Context;
use sha2::{Digest, Sha512};
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::time::Duration;

/// The npm registry `tdlib install` fetches from unless told another.
pub const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org";
/// The tarball of [`NPM_PACKAGE`], under the registry's address.
const TARBALL: &str = "@prebuilt-tdlib/linux-x64-glibc/-/linux-x64-glibc-0.1008061.0.tgz";
/// The registry's `dist.integrity` of [`NPM_PACKAGE`]: a tarball with another SHA-512 is
/// refused, wherever it came from.
const INTEGRITY: &str = "sha512-+AbMF6WotnYFm2mZ7rJH4nLqeY+2KSVnGyomeToeacfUIRZQxenq1PjDXp2THvejpfeJoawGUtVfufgufUJWRg==";
/// The largest tarball taken (it is 17 MB).
const MAX_TARBALL: u64 = 64 * 1024 * 1024;
/// The largest library taken out of it (it is 54 MB).
const MAX_LIBRARY: u64 = 256 * 1024 * 1024;

/// `tgscript tdlib ...`
#[derive(Debug, clap::Subcommand)]
pub enum TdlibCommand {
    /// Download libtdjson 1.8.61 (npm's prebuilt package, SHA-512 checked) into the data dir.
    Install {
        /// The npm registry to fetch the package from (a mirror of registry.npmjs.org).
        #[arg(long, env = "TGSCRIPT_NPM_REGISTRY", default_value = DEFAULT_REGISTRY, value_name = "URL")]
        registry: String,
    },
    /// Show which libtdjson would be loaded, and its version.
    Path,
}

pub(super) fn tdlib(config: &Config, command: TdlibCommand) -> anyhow::Result<u8> {
    match command {
        TdlibCommand::Install { registry } => install(&registry, &data_dir()),
        TdlibCommand::Path => path(config),
    }?;
    Ok(0)
}

fn path(config: &Config) -> anyhow::Result<()> {
    let candidates = tdjson::candidates(config.tdlib_path.as_deref(), &data_dir());
    let lib = tdjson::find(&candidates)?;
    outln!("{} (TDLib {})", lib.path.display(), lib.version)?;
    Ok(())
}

/// Download the package from `registry`, check its SHA-512, take libtdjson out of it, check
/// the version it reports and put it into `data_dir` (written beside its place, synced, then
/// renamed: never half a library).
pub fn install(registry: &str, data_dir: &Path) -> anyhow::Result<()> {
    if !(cfg!(target_os = "linux") && cfg!(target_arch = "x86_64")) {
        anyhow::bail!(
            "prebuilt libtdjson is installed for Linux x86-64 only; build TDLib {TDLIB_VERSION} and set TDJSON_PATH"
        );
    }
    let url = format!("{}/{TARBALL}", registry.trim_end_matches('/'));
    eprintln!("fetching {NPM_PACKAGE} from {url}");
    let tarball = download(&url)?;
    let digest = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        Sha512::digest(&tarball),
    );
    if format!("sha512-{digest}") != INTEGRITY {
        anyhow::bail!(
            "the tarball from {url} is not {NPM_PACKAGE}: its SHA-512 is {digest}, not the pinned one; nothing was installed (check --registry / TGSCRIPT_NPM_REGISTRY)"
        );
    }
    let target = tdjson::installed_path(data_dir);
    let dir = target
        .parent()
        .context("the library's place has no folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut partial = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    unpack_library(&tarball, partial.as_file_mut())?;
    partial
        .as_file()
        .sync_all()
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let opened = tdjson::open(partial.path())?;
    partial
        .persist(&target)
        .with_context(|| format!("cannot write {}", target.display()))?;
    outln!("installed TDLib {} at {}", opened.version, target.display())?;
    Ok(())
}

/// The body at `url`, with progress on stderr; at most [`MAX_TARBALL`] bytes.
fn download(url: &str) -> anyhow::Result<Vec<u8>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        // The system's certificate authorities too, as npm and curl trust them (a proxy of
        // the site's own CA in front of the registry).
        let system = rustls_native_certs::load_native_certs().certs;
        let client = system
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der).ok())
            .fold(reqwest::Client::builder(), |builder, ca| {
                builder.add_root_certificate(ca)
            })
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(60))
            .build()
            .context("cannot make an HTTP client")?;
        let mut response = client
            .get(url)
            .send()
            .await
            .with_context(|| format!("cannot fetch {url}"))?;
        if !response.status().is_success() {
            anyhow::bail!(
                "{url} answered {}: nothing was installed (is the registry right? try again later)",
                response.status()
            );
        }
        let total = response.content_length().filter(|n| *n <= MAX_TARBALL);
        let mut body = Vec::new();
        let mut progress = Progress::new(total);
        while let Some(chunk) = response
            .chunk()
            .await
            .with_context(|| format!("the download of {url} broke off"))?
        {
            body.extend_from_slice(&chunk);
            if body.len() as u64 > MAX_TARBALL {
                anyhow::bail!("{url} is larger than {MAX_TARBALL} bytes: not the package");
            }
            progress.show(body.len() as u64);
        }
        progress.done(body.len() as u64);
        Ok(body)
    })
}

/// Copy `package/libtdjson.so` out of the gzipped `tarball` into `to`.
fn unpack_library(tarball: &[u8], to: &mut std::fs::File) -> anyhow::Result<()> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
    let wanted = Path::new("package").join(LIBRARY_FILE);
    for entry in archive.entries().context("the package is not a tarball")? {
        let entry = entry.context("the package's tarball is damaged")?;
        if entry.path().is_ok_and(|p| p == wanted) {
            let copied = std::io::copy(&mut entry.take(MAX_LIBRARY + 1), to)
                .context("cannot write the library")?;
            if copied > MAX_LIBRARY {
                anyhow::bail!("{LIBRARY_FILE} in the package is larger than {MAX_LIBRARY} bytes");
            }
            return Ok(());
        }
    }
    anyhow::bail!("the package holds no {}", wanted.display())
}

/// Download progress on stderr: one line redrawn on a terminal, a line per quarter else.
struct Progress {
    total: Option<u64>,
    terminal: bool,
    shown: u64,
}

impl Progress {
    fn new(total: Option<u64>) -> Self {
        Self {
            total,
            terminal: std::io::stderr().is_terminal(),
            shown: 0,
        }
    }

    fn show(&mut self, bytes: u64) {
        let Some(total) = self.total.filter(|t| *t > 0) else {
            return;
        };
        let percent = bytes * 100 / total;
        let step = if self.terminal { 1 } else { 25 };
        if percent >= self.shown + step {
            self.shown = percent - percent % step;
            let mib = |n: u64| n as f64 / (1024.0 * 1024.0);
            let line = format!("{percent:3}% of {:.1} MiB", mib(total));
            let mut stderr = std::io::stderr().lock();
            let _ = match self.terminal {
                true => write!(stderr, "\r{line}"),
                false => writeln!(stderr, "{line}"),
            };
        }
    }

    fn done(&self, bytes: u64) {
        let end = if self.terminal { "\r" } else { "" };
        eprintln!("{end}downloaded {bytes} bytes");
    }
}
