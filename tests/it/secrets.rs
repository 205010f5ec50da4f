//! No secret leaks: every command that reaches the clouds (`create`, a forced `rotate`, `plan`,
//! `status --refresh`, `delete`) runs at trace level, and neither its output nor any file it
//! writes while it runs (state, lock, temporary files) holds any secret: key secrets, the Cloud
//! API secret, the service user's private keys and the admin's, searched whole, as the PEM body,
//! and line by line, not only in the base64 form the secret stores.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use common::clouds::{self, CONFLUENT_SECRET};
use common::{FULL, Run, Test};
use serde_json::Value;

/// The strings of a secret document that are secrets, by field name.
fn secret_fields(v: &Value, out: &mut Vec<String>) {
    // `secrets_path` (the seed's layout) names the secret itself: a name, not a secret.
    let secret = |k: &str| {
        ["password", "secret", "private_key", "user.info"]
            .iter()
            .any(|s| k.contains(s))
            && !k.ends_with("_path")
    };
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match x {
                    Value::String(s) if secret(k) => out.push(s.clone()),
                    _ => secret_fields(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| secret_fields(x, out)),
        _ => {}
    }
}

/// What to search for, for one secret: itself and, for a private key (base64 of a PEM, or a PEM),
/// the PEM, its body in one piece, and each full line of the body.
fn needles(secret: &str, out: &mut Vec<String>) {
    let secret = secret.rsplit(':').next().unwrap_or(secret);
    out.push(secret.to_string());
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(secret)
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let pem = decoded.as_deref().unwrap_or(secret);
    if !pem.contains("-----BEGIN") {
        return;
    }
    out.push(pem.to_string());
    let body: Vec<&str> = pem
        .lines()
        .filter(|l| !l.starts_with("-----") && !l.is_empty())
        .collect();
    out.push(body.concat());
    // The last line of a body can be a few characters that occur anywhere by chance.
    out.extend(body.iter().filter(|l| l.len() >= 32).map(|l| l.to_string()));
}

/// Every secret value the stack keeps in Secrets Manager, read from moto.
async fn stored() -> Vec<String> {
    let config = clouds::moto_sdk().await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let mut values = Vec::new();
    for entry in client.list_secrets().send().await.unwrap().secret_list() {
        let name = entry.name().unwrap();
        let value = client.get_secret_value().secret_id(name).send().await;
        let doc: Value = serde_json::from_str(value.unwrap().secret_string().unwrap()).unwrap();
        secret_fields(&doc, &mut values);
    }
    values
}

/// Every version of every file under `dir` while `run` lasts, read as fast as they change.
fn watching<T>(dir: &Path, run: impl FnOnce() -> T) -> (T, BTreeMap<PathBuf, Vec<String>>) {
    let seen: Arc<Mutex<BTreeMap<PathBuf, Vec<String>>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let (s, d, root) = (seen.clone(), done.clone(), dir.to_path_buf());
    let watcher = std::thread::spawn(move || {
        loop {
            let last = d.load(Ordering::SeqCst);
            let mut stack = vec![root.clone()];
            while let Some(p) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&p) else {
                    continue;
                };
                for e in entries.flatten() {
                    let path = e.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if let Ok(bytes) = std::fs::read(&path) {
                        let text = String::from_utf8_lossy(&bytes).into_owned();
                        let mut seen = s.lock().unwrap();
                        let versions = seen.entry(path).or_default();
                        if versions.last() != Some(&text) {
                            versions.push(text);
                        }
                    }
                }
            }
            if last {
                break;
            }
        }
    });
    let out = run();
    done.store(true, Ordering::SeqCst);
    watcher.join().unwrap();
    let seen = seen.lock().unwrap().clone();
    (out, seen)
}

/// Moves every key's recorded creation back years, so that every key is due for rotation.
fn age_keys(state: &Path) {
    fn back(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k.starts_with("created_at") && x.is_string() {
                        *x = Value::String("2020-01-01T00:00:00Z".into());
                    } else {
                        back(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(back),
            _ => {}
        }
    }
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(state).unwrap()).unwrap();
    back(&mut doc);
    std::fs::write(state, doc.to_string()).unwrap();
}

struct Seen {
    what: String,
    text: String,
}

#[test]
fn no_secret_appears_in_any_output_or_file_of_any_command_even_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let connection = [
        "--profile=dev",
        "--confluent-api-key=CKEY123",
        "--confluent-api-secret=cloud-secret-do-not-print",
    ];
    let commands: [(&str, Vec<&str>); 5] = [
        ("create", [&["--output=json"][..], FULL].concat()),
        ("rotate", FULL.to_vec()),
        ("plan", FULL.to_vec()),
        ("status", [&["--refresh"][..], &connection].concat()),
        ("delete", FULL.to_vec()),
    ];
    let mut seen: Vec<Seen> = Vec::new();
    let mut secrets: Vec<String> = Vec::new();
    let state = dir.path().join("kickstart.state.json");
    for (command, args) in commands {
        if command == "rotate" {
            age_keys(&state);
        }
        let (run, files): (Run, _) = watching(dir.path(), || {
            Test::new()
                .in_dir(dir.path())
                .args([command, "-vvv"])
                .args(args)
                .env("RUST_LOG", "trace")
                .env("TMPDIR", &tmp.display().to_string())
                .status(0)
                .run()
                .0
        });
        assert!(
            run.stderr.len() > 10_000,
            "{command} logged at trace level: {}",
            run.stderr
        );
        if command == "rotate" {
            assert!(run.stderr.contains("rotat"), "{}", run.stderr);
        }
        if command != "delete" {
            let now = tokio::runtime::Runtime::new().unwrap().block_on(stored());
            if command == "rotate" {
                assert!(
                    now.iter().any(|s| !secrets.contains(s)),
                    "the rotation made new secrets"
                );
            }
            secrets.extend(now);
        }
        // The commands that change something hold the lock while they run: the watch must see it.
        let locked = files.keys().any(|p| p.to_string_lossy().ends_with(".lock"));
        let changes = ["create", "rotate", "delete"].contains(&command);
        assert!(locked || !changes, "{command}: the lock file was not seen");
        seen.push(Seen {
            what: format!("{command} stdout"),
            text: run.stdout,
        });
        seen.push(Seen {
            what: format!("{command} stderr"),
            text: run.stderr,
        });
        for (path, versions) in files {
            for text in versions {
                seen.push(Seen {
                    what: format!("{command} wrote {}", path.display()),
                    text,
                });
            }
        }
    }
    let mut all = Vec::new();
    for s in &secrets {
        needles(s, &mut all);
    }
    let admin = std::fs::read_to_string(&clouds::emulators().admin_key_file).unwrap();
    needles(&admin, &mut all);
    needles(CONFLUENT_SECRET, &mut all);
    let keys = all.iter().filter(|n| n.contains("-----BEGIN")).count();
    assert!(
        secrets.len() >= 9 && keys >= 3,
        "what the stack stores: {} secrets, {keys} private keys",
        secrets.len()
    );
    for needle in &all {
        for s in &seen {
            assert!(
                !s.text.contains(needle.as_str()),
                "a secret ({} characters) appears in {}",
                needle.len(),
                s.what
            );
        }
    }
}
