//! The documentation and the release files: the README stays an entry page whose commands are
//! the ones CI runs, every link in the docs leads somewhere, the book builds, the generated
//! references match the code, and the Dockerfile passes its linter.

use crate::util::TestDir;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A file of the repository, read whole.
fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative))
        .unwrap_or_else(|e| panic!("{relative} cannot be read: {e}"))
}

/// The Markdown files whose links are checked: the README, ARCHITECTURE.md and the book.
fn documents() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("a docs folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut out = vec![root().join("README.md"), root().join("ARCHITECTURE.md")];
    walk(&root().join("docs/src"), &mut out);
    out.sort();
    out
}

/// The anchor a Markdown renderer gives a heading (GitHub's and mdBook's rule).
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown text's headings (outside code blocks).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            out.insert(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

/// The relative link targets of a Markdown text (`](target)`), outside code blocks.
fn links(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") || line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            let target = &after[..end];
            if !target.contains("://") && !target.starts_with("mailto:") {
                out.push(target.to_string());
            }
            rest = &after[end..];
        }
    }
    out
}

#[test]
fn the_readme_is_an_entry_page_whose_test_command_is_what_ci_runs() {
    let readme = read("README.md");
    let lines = readme.lines().count();
    assert!(
        lines <= 250,
        "README.md has {lines} lines: keep it under 250, move the rest to docs/src/"
    );
    for section in ["## Install", "## Five minutes", "## The documentation"] {
        assert!(readme.contains(section), "README.md lacks {section:?}");
    }
    // The quick start's two commands: the sandbox, then the test command.
    let quick = readme
        .split("## Quick start")
        .nth(1)
        .and_then(|s| s.split("```sh").nth(1))
        .and_then(|s| s.split("```").next())
        .expect("a sh block in the quick start");
    let commands: Vec<&str> = quick
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .collect();
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert!(commands[0].contains("run scripts/"), "{commands:?}");
    assert_eq!(commands[1], "tests/run");
    let ci = read(".ci/run");
    let run: Vec<&str> = ci
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(
        run,
        [commands[1]],
        ".ci/run must run the README's test command and nothing else"
    );
    let manifest = read("Cargo.toml");
    assert!(
        manifest.contains("\nrust-version = "),
        "Cargo.toml names no rust-version"
    );
    assert!(
        manifest.contains("\n[profile.dist]"),
        "Cargo.toml has no dist profile"
    );
    assert!(read("LICENSE").starts_with("MIT License"));
}

#[test]
fn every_link_in_the_docs_leads_to_a_file_and_heading_that_exist() {
    let documents = documents();
    assert!(documents.len() > 10, "{documents:?}");
    let mut broken = Vec::new();
    let mut checked = 0;
    for document in &documents {
        let text = std::fs::read_to_string(document).expect("a document");
        let folder = document.parent().expect("a folder");
        for link in links(&text) {
            let (file, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                document.clone()
            } else {
                folder.join(file)
            };
            checked += 1;
            if !target.exists() {
                broken.push(format!("{}: {link} (no file)", document.display()));
                continue;
            }
            let is_markdown = target.extension().is_some_and(|e| e == "md");
            if !fragment.is_empty() && is_markdown {
                let heads = anchors(&std::fs::read_to_string(&target).expect("a target"));
                if !heads.contains(fragment) {
                    broken.push(format!("{}: {link} (no such heading)", document.display()));
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} links found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_book_builds_with_every_chapter_of_its_summary() {
    let out = TestDir::new();
    let built = Command::new("mdbook")
        .arg("build")
        .arg(root().join("docs"))
        .arg("--dest-dir")
        .arg(out.path())
        .output();
    let built = match built {
        Ok(built) => built,
        Err(e) => panic!("mdbook cannot be run ({e}): run tests/run, which installs it"),
    };
    let stderr = String::from_utf8_lossy(&built.stderr);
    assert!(built.status.success(), "mdbook build failed:\n{stderr}");
    assert!(
        !stderr.contains("WARN") && !stderr.contains("ERROR"),
        "{stderr}"
    );
    let summary = read("docs/src/SUMMARY.md");
    let chapters: Vec<String> = links(&summary);
    assert!(chapters.len() > 15, "{chapters:?}");
    for chapter in chapters {
        let page = out.path().join(chapter.replace(".md", ".html"));
        let html = std::fs::read_to_string(&page)
            .unwrap_or_else(|e| panic!("{} was not built: {e}", page.display()));
        assert!(html.contains("<h1"), "{} has no title", page.display());
    }
}

#[test]
fn the_builtins_reference_is_what_tgscript_docs_prints() {
    let t = TestDir::new();
    let run = t.run(&["docs", "--format", "markdown"]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("## `tg_chat_permission`"),
        "{}",
        run.stdout
    );
    assert!(
        read("docs/src/reference/builtins.md") == run.stdout,
        "docs/src/reference/builtins.md is stale: run\n  cargo run --release -- docs --format markdown > docs/src/reference/builtins.md"
    );
}

#[test]
fn the_dockerfile_builds_a_non_root_image_and_passes_hadolint() {
    let dockerfile = read("Dockerfile");
    let stages = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .count();
    assert_eq!(stages, 2, "a build stage and a runtime stage");
    assert!(dockerfile.contains("--profile dist --locked"));
    let user = dockerfile
        .lines()
        .rfind(|l| l.starts_with("USER "))
        .expect("a USER line");
    assert!(!user.contains("root") && !user.ends_with(" 0"), "{user}");
    assert!(dockerfile.contains("VOLUME"), "the store's volume");
    assert!(
        read(".dockerignore").lines().any(|l| l == "target/"),
        "the build context must leave target/ out"
    );
    let hadolint = std::env::var_os("TEST_PYTHON_FOR_TGSCRIPT")
        .map(PathBuf::from)
        .and_then(|python| python.parent().map(|bin| bin.join("hadolint")))
        .filter(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("hadolint"));
    let linted = Command::new(&hadolint)
        .arg("--no-color")
        .arg(root().join("Dockerfile"))
        .output()
        .unwrap_or_else(|e| {
            panic!("hadolint cannot be run ({e}): run tests/run, which installs it")
        });
    assert!(
        linted.status.success(),
        "hadolint:\n{}{}",
        String::from_utf8_lossy(&linted.stdout),
        String::from_utf8_lossy(&linted.stderr)
    );
    // A linter that accepts anything proves nothing: it refuses a Dockerfile running as root
    // with an unpinned base image.
    let t = TestDir::new();
    let bad = t.write("Dockerfile", "FROM debian\nRUN apt-get install curl\n");
    let refused = Command::new(&hadolint)
        .arg("--no-color")
        .arg(&bad)
        .output()
        .expect("hadolint runs");
    assert!(
        !refused.status.success(),
        "hadolint passed a bad Dockerfile"
    );
}
