//! `tgscript docs [NAME] [--gateway] [--format markdown|json]`: the builtins (or one of
//! them), or the gateway's protocol.

use crate::builtins::offline_engine;
use crate::config::Config;
use crate::docs;
use crate::gateway::reference;

/// Output format of `docs`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Markdown, one section per builtin (or gateway action).
    Markdown,
    /// JSON: `{"builtins": [{name, signature, params, returns, doc}]}`, or with `--gateway`
    /// `{"envelope": [...], "actions": [{name, kind, admin, fields, success, errors, example}]}`.
    Json,
}

/// Arguments of `docs`.
#[derive(Debug, clap::Args)]
pub struct DocsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: Format,
    /// The gateway's protocol (every action, its fields, events and an example) instead of
    /// the builtins.
    #[arg(long)]
    pub gateway: bool,
    /// Only this builtin (all its overloads), e.g. `tgscript docs tg_chat_permission`.
    pub name: Option<String>,
}

pub(super) fn docs(config: &Config, args: DocsArgs) -> anyhow::Result<u8> {
    if args.gateway {
        match args.format {
            Format::Markdown => print!("{}", reference::to_markdown()),
            Format::Json => println!("{}", reference::to_json()),
        }
        return Ok(0);
    }
    let engine = offline_engine(config.limits.clone(), ".");
    let builtins = match &args.name {
        None => docs::builtins(&engine),
        Some(name) => {
            let found = docs::lookup(&engine, name);
            if found.is_empty() {
                let all = docs::builtins(&engine);
                let hint = crate::check::closest_name(name, all.iter().map(|d| d.name.as_str()))
                    .map(|close| format!(": did you mean {close}?"))
                    .unwrap_or_else(|| " (tgscript docs lists them)".to_string());
                return Err(super::usage(format!("no builtin named {name}{hint}")));
            }
            found
        }
    };
    match args.format {
        Format::Markdown => print!("{}", docs::to_markdown(&builtins)),
        Format::Json => println!("{}", docs::to_json(&builtins)),
    }
    Ok(0)
}
