//! The real `oms-server` binary as the app runs it: announces its URL, and
//! exits when its stdin closes (so it never outlives a killed parent).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn announces_itself_and_exits_when_stdin_closes() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_oms-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--exit-on-stdin-eof",
            "--database",
        ])
        .arg(dir.path().join("oms.sqlite"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let parts: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(parts[0], "OMS_SERVER_READY", "{line}");
    assert!(parts[1].starts_with("http://127.0.0.1:"), "{line}");
    assert_ne!(parts[1], "http://127.0.0.1:0", "a real port is announced");

    // Still running while the pipe is open.
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none());

    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "clean exit, got {status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("oms-server kept running after its stdin closed");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
