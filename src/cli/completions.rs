//! `tgscript completions SHELL` and `tgscript man`: a shell's completion script and the man
//! page, both from the one clap definition of the command line.

use super::Cli;
use clap::CommandFactory;

/// Arguments of `completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub(super) fn completions(args: &CompletionsArgs) -> anyhow::Result<u8> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "tgscript", &mut script);
    out!("{}", String::from_utf8_lossy(&script))?;
    Ok(0)
}

pub(super) fn man() -> anyhow::Result<u8> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    out!("{}", String::from_utf8_lossy(&page))?;
    Ok(0)
}
