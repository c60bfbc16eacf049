//! Certificates for the TLS tests, made with the `openssl` command: a certificate authority,
//! a server certificate for `127.0.0.1` and `localhost`, and a client certificate, all
//! signed by it (P-256 keys, PEM files).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The files made.
pub struct Certs {
    /// The authority's certificate.
    pub ca: PathBuf,
    /// The server's certificate.
    pub server_cert: PathBuf,
    /// The server's key.
    pub server_key: PathBuf,
    /// The client's certificate.
    pub client_cert: PathBuf,
    /// The client's key.
    pub client_key: PathBuf,
}

/// Run `openssl` with `args` (words separated by spaces) in `dir`; panics with its words
/// when it fails.
fn openssl(dir: &Path, args: &str) {
    let out = Command::new("openssl")
        .args(args.split_whitespace())
        .current_dir(dir)
        .output()
        .expect("the TLS tests need the openssl command (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A new P-256 key `<name>.key` in `dir`, and `openssl req` with `rest` on it.
fn new_key(dir: &Path, name: &str, rest: &str) {
    openssl(
        dir,
        &format!(
            "req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout {name}.key {rest}"
        ),
    );
}

/// Make a certificate `name` (`<name>.pem`, `<name>.key`) in `dir` signed by the authority
/// there, with `extensions` (`openssl x509 -extfile` lines).
fn signed(dir: &Path, name: &str, subject: &str, extensions: &str) {
    std::fs::write(dir.join(format!("{name}.ext")), extensions).expect("write the extensions");
    new_key(dir, name, &format!("-out {name}.csr -subj {subject}"));
    openssl(
        dir,
        &format!(
            "x509 -req -in {name}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out {name}.pem -extfile {name}.ext"
        ),
    );
}

/// Make the authority and the certificates in `dir`.
pub fn make(dir: &Path) -> Certs {
    new_key(
        dir,
        "ca",
        "-x509 -out ca.pem -days 2 -subj /CN=tgscript-test-CA -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
    );
    signed(
        dir,
        "server",
        "/CN=127.0.0.1",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
    );
    signed(
        dir,
        "client",
        "/CN=tgscript",
        "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n",
    );
    Certs {
        ca: dir.join("ca.pem"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
        client_cert: dir.join("client.pem"),
        client_key: dir.join("client.key"),
    }
}
