//! What every command prints: stdout written through [`out!`] and [`outln!`], whose errors
//! reach the CLI edge (a reader that closed the pipe ends the command with exit 0), and the
//! one `-o json` convention of the listing commands.

/// How a listing is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// For people: a table or lines.
    #[default]
    Text,
    /// For programs: one JSON document.
    Json,
}

/// `-o/--output FORMAT` of a listing command (`--json` is kept as a hidden alias).
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Output format: `text` for people, `json` for programs.
    #[arg(
        short = 'o',
        long = "output",
        value_enum,
        default_value_t,
        value_name = "FORMAT"
    )]
    output: Format,
    /// The older spelling of `-o json`.
    #[arg(long, hide = true)]
    json: bool,
}

impl OutputArgs {
    /// Whether the listing is asked for as JSON.
    pub fn json(&self) -> bool {
        self.json || self.output == Format::Json
    }
}

/// Whether `error` is stdout's reader having gone away (`| head`): nothing is wrong.
pub(super) fn closed_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Write `text` to stdout, flushed: an error (a closed pipe) is returned, never a panic.
pub(super) fn write_stdout(text: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_fmt(text)?;
    stdout.flush()
}
