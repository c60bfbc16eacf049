//! `download(file_id)` through the real binary against the local Bot API server: the exact
//! bytes, sent again and posted over HTTP; the cap (known size, and a body that never ends);
//! Telegram's error for an unknown id; a local server's absolute paths and the refusal of
//! paths outside the bot's folder; a handler run again; the token in no output; the doc
//! example and the sandbox's `/document` line.

use crate::util::{TOKEN, TestDir};
use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tgscript::sandbox::server::FILE_DOWNLOAD;
use tgscript::sandbox::world::{Content, Post, SANDBOX_CHAT_ID};
use tgscript::sandbox::{BotApiServer, Refusal, World};

fn server() -> BotApiServer {
    BotApiServer::start(World::new(), Some(TOKEN)).expect("start the local Bot API server")
}

/// Alice sends a document named `name` in the sandbox group; its `file_id`.
fn alice_sends_a_document(server: &BotApiServer, name: &str) -> String {
    server.world(|w| {
        let post = Post {
            document: Some(name),
            ..Post::default()
        };
        let message = w.post(SANDBOX_CHAT_ID, 1001, &post).expect("alice posts");
        message["document"]["file_id"]
            .as_str()
            .expect("a file_id")
            .to_string()
    })
}

/// The bytes the sandbox keeps for `file_id`.
fn bytes_of(server: &BotApiServer, file_id: &str) -> Vec<u8> {
    server.world(|w| {
        let params: Map<String, Value> = [("file_id".to_string(), json!(file_id))]
            .into_iter()
            .collect();
        let file = w.call("getFile", &params).expect("a known file");
        match file["file_path"].as_str().and_then(|p| w.file_at(p)) {
            Some(Content::Bytes(bytes)) => bytes.to_vec(),
            other => panic!("no bytes for {file_id}: {other:?}"),
        }
    })
}

/// How many times files were fetched over HTTP.
fn fetches(server: &BotApiServer) -> usize {
    server.calls_of(FILE_DOWNLOAD).len()
}

/// Run `script` with `exec --json` against `server` with `extra` variables; the run.
fn exec(
    t: &TestDir,
    server: &BotApiServer,
    script: &str,
    extra: &[(&str, &str)],
) -> crate::util::Run {
    t.write("s.rhai", script);
    let url = server.url();
    let mut env = vec![
        ("TELOXIDE_TOKEN", TOKEN),
        ("TELOXIDE_API_URL", url.as_str()),
    ];
    env.extend_from_slice(extra);
    t.run_with_env(&["exec", "s.rhai", "--json"], &env)
}

/// The value `script` answers (it must succeed).
fn value(t: &TestDir, server: &BotApiServer, script: &str, extra: &[(&str, &str)]) -> Value {
    let run = exec(t, server, script, extra);
    run.expect_code(0);
    assert!(!run.stderr.contains(TOKEN), "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("exec --json prints JSON")
}

/// The error `call` (a Rhai expression) throws, as the script catches it; stdout and stderr
/// of the run are checked to hold no token.
fn error_of(t: &TestDir, server: &BotApiServer, call: &str, extra: &[(&str, &str)]) -> Value {
    let script = format!("let r = \"no error\";\ntry {{ {call}; }} catch (e) {{ r = e; }}\nr");
    let run = exec(t, server, &script, extra);
    run.expect_code(0);
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains(TOKEN), "the token leaked: {output}");
        assert!(
            !output.contains("AAHsecret"),
            "part of the token leaked: {output}"
        );
    }
    serde_json::from_str(&run.stdout).expect("exec --json prints JSON")
}

/// Each POST a backend got: its content type and body.
type Posted = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A backend on a loopback port keeping each POST's content type and body.
fn backend() -> (u16, Posted) {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let keep = kept.clone();
    let app = Router::new().route(
        "/upload",
        post(move |headers: HeaderMap, body: Bytes| async move {
            let kind = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let size = body.len();
            keep.lock().expect("kept").push((kind, body.to_vec()));
            size.to_string()
        }),
    );
    let port = crate::util::serve_on_loopback(app);
    (port, kept)
}

/// Whether `needle` occurs in `haystack`.
fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_download_is_exactly_the_bytes_and_goes_out_again_equal() {
    let server = server();
    let t = TestDir::new();
    let id = alice_sends_a_document(&server, "report.bin");
    let expected = bytes_of(&server, &id);
    let (port, posted) = backend();
    let out = value(
        &t,
        &server,
        &format!(
            r#"
            let b = download("{id}");
            let sent = send_document({SANDBOX_CHAT_ID}, b, #{{caption: "again"}});
            let raw = http_post("http://127.0.0.1:{port}/upload", b);
            let form = http_post("http://127.0.0.1:{port}/upload", #{{file: b, note: "from alice"}});
            #{{len: b.len(), first: b[0], sent: sent.document.file_id, raw: raw.body, form: form.status}}
            "#
        ),
        &[
            ("TGSCRIPT_HTTP_ALLOW", "127.0.0.1"),
            ("TGSCRIPT_HTTP_PLAIN_HTTP", "127.0.0.1"),
            ("TGSCRIPT_HTTP_PRIVATE", "127.0.0.1"),
        ],
    );
    assert_eq!(out["len"], json!(expected.len()), "{out}");
    assert_eq!(out["first"], json!(expected[0]), "{out}");
    assert_eq!(fetches(&server), 1);
    // Sent again: the upload's bytes are the downloaded ones, so Telegram knows the file.
    let sends = server.calls_of("sendDocument");
    assert_eq!(sends.len(), 1);
    assert_eq!(
        sends[0].params["document"]["base64"],
        json!(STANDARD.encode(&expected))
    );
    assert_eq!(
        out["sent"],
        json!(id),
        "the same bytes, the same file: {out}"
    );
    // Posted as the body, and as a multipart file.
    let posted = posted.lock().expect("posted").clone();
    assert_eq!(posted.len(), 2, "two posts");
    assert_eq!(posted[0].0, "application/octet-stream");
    assert_eq!(posted[0].1, expected);
    assert_eq!(out["raw"], json!(expected.len().to_string()), "{out}");
    assert!(
        posted[1].0.starts_with("multipart/form-data"),
        "{}",
        posted[1].0
    );
    assert!(
        holds(&posted[1].1, &expected),
        "the file part holds the bytes"
    );
    assert!(holds(&posted[1].1, b"name=\"note\"\r\n\r\nfrom alice"));
    assert_eq!(out["form"], json!(200), "{out}");
}

#[test]
fn a_file_over_the_cap_is_refused_naming_the_cap_and_nothing_past_it_is_read() {
    let server = server();
    let t = TestDir::new();
    let id = alice_sends_a_document(&server, "report.bin");
    let size = bytes_of(&server, &id).len();
    // getFile tells the size: refused before any byte is fetched.
    let error = error_of(
        &t,
        &server,
        &format!("download(\"{id}\")"),
        &[("TGSCRIPT_FILES_MAX_DOWNLOAD_SIZE", "1000")],
    );
    assert_eq!(error["code"], json!(413), "{error}");
    assert_eq!(
        error["error"],
        json!(format!(
            "the file is {size} bytes, over [files] max_download_size (1000 bytes): nothing past the cap was read; raise [files] max_download_size to download it"
        ))
    );
    assert_eq!(server.calls_of("getFile").len(), 1);
    assert_eq!(fetches(&server), 0, "nothing was fetched");

    // A blob is held to [limits] max_array_size (10,000 by default): named when smaller.
    std::fs::write(t.path().join("big.bin"), vec![7u8; 12_000]).expect("a big asset");
    let big = value(
        &t,
        &server,
        &format!("send_document({SANDBOX_CHAT_ID}, asset(\"big.bin\")).document.file_id"),
        &[],
    );
    let error = error_of(&t, &server, &format!("download({big})"), &[]);
    assert!(
        error["error"]
            .as_str()
            .is_some_and(|e| e.contains("12000 bytes, over [limits] max_array_size (10000 bytes)")),
        "{error}"
    );

    // A server that tells no size and never ends its body: the download stops at the cap.
    let endless = server.world(|w| w.keep_endless_file());
    let error = error_of(&t, &server, &format!("download(\"{endless}\")"), &[]);
    assert_eq!(error["code"], json!(413), "{error}");
    assert!(
        error["error"].as_str().is_some_and(|e| e.starts_with(
            "the file is larger than the cap, over [limits] max_array_size (10000 bytes)"
        )),
        "{error}"
    );
    assert_eq!(fetches(&server), 1, "the endless body was fetched, and cut");
}

#[test]
fn an_unknown_file_or_a_missing_one_is_an_error_in_words_without_the_token() {
    let server = server();
    let t = TestDir::new();
    let error = error_of(&t, &server, "download(\"AgADnope\")", &[]);
    assert_eq!(error["code"], json!(400), "{error}");
    assert_eq!(error["error"], json!("Bad Request: invalid file_id"));
    assert!(
        error["hint"]
            .as_str()
            .is_some_and(|h| h.contains("take it from a message this bot received or sent")),
        "{error}"
    );
    let error = error_of(&t, &server, "download(\"\")", &[]);
    assert!(
        error["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("file_id is empty")),
        "{error}"
    );
    assert_eq!(
        server.calls_of("getFile").len(),
        1,
        "the empty id was not sent"
    );

    // The file server answers 404: the URL (with the token) is in no message.
    let id = alice_sends_a_document(&server, "gone.txt");
    server.world(|w| w.answer_file_path(&id, "documents/no_such_file"));
    let error = error_of(&t, &server, &format!("download(\"{id}\")"), &[]);
    assert_eq!(
        error["error"],
        json!("the Bot API's file server answered HTTP 404"),
        "{error}"
    );
    assert_eq!(fetches(&server), 1);

    // The server is down: a network-like failure, no code (it may be tried again).
    server.set_down(true);
    let run = exec(
        &t,
        &server,
        &format!("download(\"{id}\")"),
        &[("TGSCRIPT_LOG", "debug")],
    );
    server.set_down(false);
    assert_ne!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("download"), "{}", run.stderr);
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains(TOKEN), "the token leaked: {output}");
    }
    // A hostile path out of the file folder is refused before anything is fetched.
    server.world(|w| w.answer_file_path(&id, "../bot123/getMe"));
    let error = error_of(&t, &server, &format!("download(\"{id}\")"), &[]);
    assert_eq!(error["code"], json!(403), "{error}");
    assert_eq!(fetches(&server), 1, "nothing more was fetched");
}

#[test]
fn a_local_servers_absolute_path_is_read_from_the_bots_folder_and_nothing_outside_it() {
    let server = server();
    let t = TestDir::new();
    let local = t.path().join("tba");
    let folder = local.join(TOKEN);
    server.world(|w| w.keep_files_in(folder.clone()));
    let id = alice_sends_a_document(&server, "report.bin");
    let local_dir = local.to_string_lossy().into_owned();
    let env = [("TGSCRIPT_FILES_LOCAL_DIR", local_dir.as_str())];
    let out = value(
        &t,
        &server,
        &format!("let b = download(\"{id}\"); #{{len: b.len(), text: b.as_string()}}"),
        &env,
    );
    let on_disk = std::fs::read(folder.join("documents/file_1.bin")).expect("written by getFile");
    assert_eq!(out["len"], json!(on_disk.len()), "{out}");
    assert_eq!(
        out["text"],
        json!(String::from_utf8_lossy(&on_disk)),
        "{out}"
    );
    assert_eq!(server.calls_of("getFile").len(), 1);
    assert_eq!(fetches(&server), 0, "read from disk, not over HTTP");

    // Paths outside the bot's folder: the host's files, another bot's, a symlink out.
    std::fs::create_dir_all(local.join("999:other")).expect("another bot's folder");
    std::fs::write(local.join("999:other/secret.txt"), "theirs").expect("another bot's file");
    std::os::unix::fs::symlink("/etc/passwd", folder.join("documents/link")).expect("symlink");
    let outside = [
        "/etc/passwd".to_string(),
        local
            .join("999:other/secret.txt")
            .to_string_lossy()
            .into_owned(),
        folder.join("documents/link").to_string_lossy().into_owned(),
    ];
    for path in &outside {
        server.world(|w| w.answer_file_path(&id, path));
        let error = error_of(&t, &server, &format!("download(\"{id}\")"), &env);
        assert_eq!(error["code"], json!(403), "{path}: {error}");
        assert!(
            error["error"].as_str().is_some_and(|e| e.starts_with(
                "the Bot API answered a file on its disk outside this bot's folder of [files] local_dir"
            )),
            "{path}: {error}"
        );
    }
    let dotted = format!("{}/../../../etc/passwd", folder.display());
    server.world(|w| w.answer_file_path(&id, &dotted));
    let error = error_of(&t, &server, &format!("download(\"{id}\")"), &env);
    assert_eq!(error["code"], json!(403), "{error}");
    assert_eq!(fetches(&server), 0, "nothing was fetched or read");

    // Without local_dir the host reads nothing from its disk: the path is the server's.
    server.world(|w| w.answer_file_path(&id, "/etc/passwd"));
    let error = error_of(&t, &server, &format!("download(\"{id}\")"), &[]);
    assert_eq!(
        error["error"],
        json!("the Bot API's file server answered HTTP 404"),
        "{error}"
    );
    let asked = server.calls_of(FILE_DOWNLOAD);
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].params["path"], json!("etc/passwd"));
}

#[test]
fn a_handler_run_again_downloads_again_and_sends_once_more_the_same_bytes() {
    let server = server();
    let t = TestDir::new();
    t.write(
        "scripts/s.rhai",
        r#"
        fn on_message(msg) {
            if msg.document != () {
                let b = download(msg.document.file_id);
                send_document(msg.chat.id, b, #{caption: `${b.len()} bytes`});
            }
        }
        "#,
    );
    let url = server.url();
    let bot = t.spawn(
        &["run", "scripts"],
        &[("TELOXIDE_TOKEN", TOKEN), ("TELOXIDE_API_URL", &url)],
    );
    let wait = Duration::from_secs(30);
    bot.wait_stderr("loaded scripts/s.rhai: ok", 1, wait);
    server.world(|w| w.fail_next("sendDocument", Refusal::bad_gateway()));
    let id = alice_sends_a_document(&server, "report.bin");
    let expected = bytes_of(&server, &id);
    let sent = server.wait_for(wait, |calls| {
        calls.iter().filter(|c| c.method == "sendDocument").count() >= 2
    });
    let sent = sent.unwrap_or_else(|calls| panic!("{calls:?}\n{}", bot.stderr_so_far()));
    let done = bot.interrupt();
    assert!(done.stderr.contains("trying again"), "{}", done.stderr);
    assert!(!done.stderr.contains(TOKEN), "{}", done.stderr);
    let uploads: Vec<&Value> = sent
        .iter()
        .filter(|c| c.method == "sendDocument")
        .map(|c| &c.params["document"]["base64"])
        .collect();
    assert_eq!(uploads, [&json!(STANDARD.encode(&expected)); 2]);
    assert_eq!(
        fetches(&server),
        2,
        "the journal keeps a digest, not the bytes: the second try downloads again"
    );
}

/// The example of `download`'s doc, as `tgscript docs download -o json` shows it.
fn doc_example() -> String {
    let t = TestDir::new();
    let run = t.run(&["docs", "download", "-o", "json"]);
    run.expect_code(0);
    let docs: Value = serde_json::from_str(&run.stdout).expect("docs -o json prints JSON");
    let doc = docs["builtins"][0]["doc"]
        .as_str()
        .expect("a doc")
        .to_string();
    doc.split("```rhai")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("an example")
        .to_string()
}

/// `tgscript <args>` on the sandbox in `t`, `input` piped in; its stdout and stderr.
fn on_the_sandbox(t: &TestDir, args: &[&str], input: &str) -> (String, String) {
    let out = crate::util::piped(t, args, &[], input);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_doc_example_runs_in_the_repl_on_the_sandbox_and_a_sandbox_document_downloads() {
    let example = doc_example();
    let t = TestDir::new();
    let (stdout, _) = on_the_sandbox(&t, &["repl"], &example);
    assert!(stdout.contains("5 bytes: AAAAA"), "{example}\n{stdout}");

    // A sandbox user's /document: its generated bytes reach the handler.
    t.write(
        "scripts/s.rhai",
        "fn on_message(msg) {\n    if msg.document != () {\n        let b = download(msg.document.file_id);\n        reply(`${msg.document.file_name}: ${b.len()} bytes, starting ${b.extract(0, 12).as_string()}`);\n    }\n}\n",
    );
    let (stdout, stderr) = on_the_sandbox(&t, &["run", "scripts"], "/document plan.txt the plan\n");
    assert!(stdout.contains("[document plan.txt] the plan"), "{stdout}");
    assert!(
        stdout.contains("plan.txt: 2048 bytes, starting sandbox file"),
        "{stdout}\n{stderr}"
    );
}

#[test]
fn the_gateway_downloads_a_file_as_base64_with_the_errors_scripts_get() {
    use crate::gateway::{ask, connect, runtime, serve};
    let server = server();
    let id = alice_sends_a_document(&server, "report.bin");
    let expected = bytes_of(&server, &id);
    let url = server.url();
    const ADMIN: &str = "files-admin-token-0123456789abcdef";
    let served = serve(
        &format!("[gateway]\nadmin_token = \"{ADMIN}\"\n"),
        &[
            ("TELOXIDE_TOKEN", TOKEN),
            ("TELOXIDE_API_URL", &url),
            ("TGSCRIPT_FILES_MAX_DOWNLOAD_SIZE", "3000"),
        ],
    );
    runtime().block_on(async {
        let mut ws = connect(&served.addr, Some(ADMIN)).await.expect("connect");
        let event = ask(
            &mut ws,
            json!({"action": "download", "file_id": id, "request_id": 1}).to_string(),
        )
        .await;
        assert_eq!(event["event"], json!("download"), "{event}");
        assert_eq!(event["data"]["base64"], json!(STANDARD.encode(&expected)));
        assert_eq!(event["data"]["size"], json!(expected.len()));
        assert_eq!(event["data"]["filename"], json!("file_1.bin"));
        let event = ask(
            &mut ws,
            json!({"action": "download", "file_id": "AgADnope"}).to_string(),
        )
        .await;
        assert_eq!(event["event"], json!("download_error"), "{event}");
        assert_eq!(
            event["error"],
            json!("Bad Request: invalid file_id"),
            "{event}"
        );
        let event = ask(&mut ws, json!({"action": "download"}).to_string()).await;
        assert_eq!(event["error"], json!("file_id is required"), "{event}");
    });
    let done = served.bot.interrupt();
    assert!(!done.all_output().contains(TOKEN), "{}", done.all_output());
    assert_eq!(
        server.calls_of("getFile").len(),
        2,
        "the missing file_id was not sent"
    );
}
