//! The `tgscript` binary: everything lives in the library; see `tgscript --help`.

fn main() -> std::process::ExitCode {
    tgscript::cli::main()
}
