//! `tgscript tdlib install` from a registry on loopback: the real package installs, a
//! tarball of another SHA-512 is refused, a failing server is an error, and nothing is left
//! half-written in the data dir either way.

use crate::util::TestDir;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

/// The real tarball of the pinned package, fetched once from the npm registry (kept in the
/// target folder).
fn real_tarball() -> Vec<u8> {
    static TARBALL: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    TARBALL.get_or_init(fetch_tarball).clone()
}

fn fetch_tarball() -> Vec<u8> {
    let cached = Path::new(env!("CARGO_TARGET_TMPDIR")).join("linux-x64-glibc-0.1008061.0.tgz");
    if let Ok(bytes) = std::fs::read(&cached) {
        return bytes;
    }
    let url = "https://registry.npmjs.org/@prebuilt-tdlib/linux-x64-glibc/-/linux-x64-glibc-0.1008061.0.tgz";
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // Trusting the system's authorities, as `tdlib install` does.
    let mut client = reqwest::Client::builder();
    for der in rustls_native_certs::load_native_certs().certs {
        if let Ok(ca) = reqwest::Certificate::from_der(&der) {
            client = client.add_root_certificate(ca);
        }
    }
    let client = client.build().expect("an HTTP client");
    let bytes = runtime.block_on(async {
        let response = client.get(url).send().await.expect("fetch the package");
        assert!(response.status().is_success(), "{}", response.status());
        response.bytes().await.expect("the package").to_vec()
    });
    let partial = cached.with_extension("partial");
    std::fs::write(&partial, &bytes).expect("cache the package");
    std::fs::rename(&partial, &cached).expect("cache the package");
    bytes
}

/// A registry on loopback answering every request with `status` and `body`; its address.
fn registry(status: &'static str, body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut byte = [0u8; 1];
            while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                request.push(byte[0]);
            }
            let head = format!(
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{address}")
}

/// What the data dir's library folder holds.
fn library_folder(t: &TestDir) -> Vec<String> {
    std::fs::read_dir(t.path().join(".data/lib"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_pinned_package_installs_from_a_mirror() {
    let t = TestDir::new();
    let url = registry("200 OK", real_tarball());
    t.run(&["tdlib", "install", "--registry", &url])
        .expect_code(0)
        .expect_stdout_contains("installed TDLib 1.8.61")
        .expect_stderr_contains("downloaded ");
    assert_eq!(library_folder(&t), ["libtdjson.so"]);
    t.run(&["tdlib", "path"])
        .expect_code(0)
        .expect_stdout_contains("(TDLib 1.8.61)");
}

#[test]
fn a_tarball_of_another_hash_is_refused_and_nothing_installed() {
    let t = TestDir::new();
    let mut forged = real_tarball();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let url = registry("200 OK", forged);
    t.run_with_env(
        &["tdlib", "install"],
        &[("TGSCRIPT_NPM_REGISTRY", url.as_str())],
    )
    .expect_code(1)
    .expect_stderr_contains("its SHA-512 is")
    .expect_stderr_contains("nothing was installed");
    assert_eq!(library_folder(&t), Vec::<String>::new());
}

#[test]
fn a_failing_registry_is_an_error_and_nothing_installed() {
    let t = TestDir::new();
    let url = registry("500 Internal Server Error", b"down".to_vec());
    t.run(&["tdlib", "install", "--registry", &url])
        .expect_code(1)
        .expect_stderr_contains("answered 500")
        .expect_stderr_contains("nothing was installed");
    assert_eq!(library_folder(&t), Vec::<String>::new());
}
