//! A small harness in the style of ripgrep's `TestCommand`: a fresh temp folder, files written
//! into it, and the real binary run there. Failures print the command, folder and output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A temporary folder to write scripts into and run `tgscript` in.
pub struct TestDir {
    dir: tempfile::TempDir,
}

/// The result of one run of the binary.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    described: String,
}

impl TestDir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("create a temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write `content` to `name` (folders created as needed) and return its path.
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folders");
        }
        std::fs::write(&path, content).expect("write file");
        path
    }

    /// Run `tgscript ARGS...` in this folder with a clean `TGSCRIPT_*` environment.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_env(args, &[])
    }

    /// Same as [`TestDir::run`] with extra environment variables.
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tgscript"));
        cmd.args(args)
            .current_dir(self.path())
            .stdin(Stdio::null())
            .env_remove("TELOXIDE_TOKEN")
            .env("TGSCRIPT_LOG", "warn");
        for (key, _) in std::env::vars() {
            if key.starts_with("TGSCRIPT_") && key != "TGSCRIPT_LOG" {
                cmd.env_remove(key);
            }
        }
        for (key, value) in env {
            cmd.env(key, value);
        }
        let output: Output = cmd.output().expect("run tgscript");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let listing: Vec<String> = walk(self.path())
            .iter()
            .map(|p| {
                p.strip_prefix(self.path())
                    .unwrap_or(p)
                    .display()
                    .to_string()
            })
            .collect();
        let described = format!(
            "command: tgscript {}\ncwd: {}\nfiles: {:?}\nexit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            args.join(" "),
            self.path().display(),
            listing,
            output.status.code(),
            stdout,
            stderr
        );
        Run {
            code: output.status.code(),
            stdout,
            stderr,
            described,
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

impl Run {
    /// Assert the exit code, showing everything on failure.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code\n{}",
            self.described
        );
        self
    }

    /// Assert stdout equals `expected` exactly.
    pub fn expect_stdout(&self, expected: &str) -> &Self {
        assert_eq!(
            self.stdout, expected,
            "unexpected stdout\n{}",
            self.described
        );
        self
    }

    /// Assert stderr contains `needle`.
    pub fn expect_stderr_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.described
        );
        self
    }

    /// Assert stdout contains `needle`.
    pub fn expect_stdout_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.described
        );
        self
    }
}
