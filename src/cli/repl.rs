//! `tgscript repl`: a line editor (history, multi-line input, tab completion) in front of a
//! [`Session`], or plain statements from a pipe. Connected to the configured bot and accounts,
//! or to the sandbox group and a sandbox account.

use super::EXIT_FAILURE;
use crate::app::{App, SandboxAccount, Wiring};
use crate::config::{Config, data_dir};
use crate::repl::{Outcome, Session, is_incomplete, show_error};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Editor, Helper};
use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError};

pub(super) fn repl(config: &Config) -> anyhow::Result<u8> {
    let app = App::build(
        config,
        Wiring {
            sandbox_bot: true,
            sandbox_account: SandboxAccount::Always,
            verify_token: false,
            claim_store: false,
        },
    )?;
    let banner = match app.sandbox() {
        Some(_) => format!(
            "sandbox: no TELOXIDE_TOKEN, so chat builtins act on the sandbox group (chat_id {}, members alice 1001, bob 1002, carol 1003) unless given a chat_id, and every Bot API call is printed",
            crate::sandbox::world::SANDBOX_CHAT_ID
        ),
        None => "connected to the bot: chat builtins need an explicit chat_id".to_string(),
    };
    let accounts_line = if config.accounts.is_empty() {
        "account 1 is a sandbox account".to_string()
    } else {
        format!("accounts {:?}", app.host().accounts().ids())
    };
    let root = Path::new(".");
    let engine = Arc::new(match app.sandbox() {
        Some(_) => app.engine_in_chat(root, crate::sandbox::world::SANDBOX_CHAT_ID),
        None => app.engine(root),
    });
    let interrupt = Arc::new(AtomicBool::new(false));
    // Ctrl-C during a run stops the run (through the engine's progress hook), not the REPL.
    if let Err(e) = signal_hook::flag::register(signal_hook::consts::SIGINT, interrupt.clone()) {
        tracing::warn!("Ctrl-C will end the REPL: {e}");
    }
    let session = Session::new(engine, interrupt);
    let code = if std::io::stdin().is_terminal() {
        eprintln!(
            "tgscript {} REPL — {banner}; {accounts_line}. :help, :builtins, :quit (or Ctrl-D).",
            env!("CARGO_PKG_VERSION")
        );
        terminal(session)?
    } else {
        piped(session)
    };
    app.close();
    Ok(code)
}

/// Statements from a pipe: results on stdout, errors on stderr, no prompts; exit 1 if any
/// input failed.
fn piped(mut session: Session) -> u8 {
    let mut failed = false;
    let mut buffer = String::new();
    // The line of the pipe the buffered input starts on, so errors name it.
    let mut first_line = 1;
    let stdin = std::io::stdin();
    for (number, line) in stdin.lock().lines().map_while(Result::ok).enumerate() {
        if buffer.is_empty() {
            first_line = number + 1;
        }
        buffer.push_str(&line);
        buffer.push('\n');
        if is_incomplete(session.engine(), session.scope(), &buffer) {
            continue;
        }
        let input = std::mem::take(&mut buffer);
        match session.input(&input) {
            Ok(Outcome::Quit) => break,
            Ok(Outcome::Value(Some(text)) | Outcome::Text(text)) => {
                // Nobody reads any more (a closed pipe): nothing left to do.
                if outln!("{text}").is_err() {
                    break;
                }
            }
            Ok(Outcome::Value(None)) => {}
            Err(e) => {
                failed = true;
                eprintln!("{}", show_error(&input, &e, first_line));
            }
        }
    }
    if !buffer.trim().is_empty() {
        failed = true;
        eprintln!("error: the input ended inside an unfinished statement");
    }
    if failed { EXIT_FAILURE } else { 0 }
}

struct ReplHelper {
    names: Arc<Mutex<Vec<String>>>,
    session: Arc<Mutex<Session>>,
}

impl Completer for ReplHelper {
    type Candidate = Pair;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        // `perms::RE` and `:he` complete as one word.
        let start = line[..pos]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .map_or(0, |i| i + 1);
        let word = &line[start..pos];
        if word.is_empty() {
            return Ok((pos, Vec::new()));
        }
        let names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        let matches = names
            .iter()
            .filter(|n| n.starts_with(word))
            .map(|n| Pair {
                display: n.clone(),
                replacement: n.clone(),
            })
            .collect();
        Ok((start, matches))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        let session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(
            if is_incomplete(session.engine(), session.scope(), ctx.input()) {
                ValidationResult::Incomplete
            } else {
                ValidationResult::Valid(None)
            },
        )
    }
}

impl Helper for ReplHelper {}

fn terminal(session: Session) -> anyhow::Result<u8> {
    let names = Arc::new(Mutex::new(session.names()));
    let session = Arc::new(Mutex::new(session));
    // Tab lists the candidates (then completes their common prefix), as a shell does.
    let config = rustyline::Config::builder()
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut editor: Editor<ReplHelper, rustyline::history::FileHistory> =
        Editor::with_config(config)
            .map_err(|e| anyhow::anyhow!("cannot open the terminal: {e}"))?;
    editor.set_helper(Some(ReplHelper {
        names: names.clone(),
        session: session.clone(),
    }));
    let history = data_dir().join("repl_history");
    let _ = editor.load_history(&history);
    loop {
        let input = match editor.readline("> ") {
            Ok(input) => input,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("tgscript repl: {e}");
                break;
            }
        };
        if !input.trim().is_empty() {
            let _ = editor.add_history_entry(input.as_str());
        }
        let mut current = session.lock().unwrap_or_else(PoisonError::into_inner);
        match current.input(&input) {
            Ok(Outcome::Quit) => break,
            Ok(Outcome::Value(Some(text)) | Outcome::Text(text)) => outln!("{text}")?,
            Ok(Outcome::Value(None)) => {}
            Err(e) => eprintln!("{}", show_error(&input, &e, 1)),
        }
        *names.lock().unwrap_or_else(PoisonError::into_inner) = current.names();
    }
    if let Some(dir) = history.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = editor.save_history(&history);
    Ok(0)
}
