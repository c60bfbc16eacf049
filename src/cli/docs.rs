//! `tgscript docs [--format markdown|json]`

use crate::builtins::offline_engine;
use crate::config::Config;
use crate::docs;

/// Output format of `docs`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Markdown, one section per builtin.
    Markdown,
    /// JSON: `{"builtins": [{name, signature, params, returns, doc}]}`.
    Json,
}

/// Arguments of `docs`.
#[derive(Debug, clap::Args)]
pub struct DocsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: Format,
}

pub(super) fn docs(config: &Config, args: DocsArgs) -> anyhow::Result<u8> {
    let engine = offline_engine(config.limits.clone(), ".");
    let builtins = docs::builtins(&engine);
    match args.format {
        Format::Markdown => print!("{}", docs::to_markdown(&builtins)),
        Format::Json => println!("{}", docs::to_json(&builtins)),
    }
    Ok(0)
}
