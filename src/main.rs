//! The `tgscript` binary: everything lives in the library; see `tgscript --help`.

use std::io::Write;

fn main() -> std::process::ExitCode {
    let code = tgscript::cli::main();
    if tgscript::accounts::tdjson::loaded().is_some() {
        // TDLib's own threads outlive its clients; running C++ static destructors under them
        // can crash at exit. Leave without them once everything is flushed.
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        // SAFETY: `_exit` ends the process at once; nothing of ours is left to run.
        unsafe { libc::_exit(i32::from(code)) }
    }
    std::process::ExitCode::from(code)
}
