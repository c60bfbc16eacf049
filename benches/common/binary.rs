//! The `tgscript` binary a bench runs: `BENCH_TGSCRIPT` when set — another build, so two
//! versions are measured side by side in one session — else this build's.

/// The binary to run.
pub fn tgscript() -> std::path::PathBuf {
    std::env::var_os("BENCH_TGSCRIPT")
        .map(Into::into)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_tgscript").into())
}
