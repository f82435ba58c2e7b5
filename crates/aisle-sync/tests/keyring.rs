//! The OS keyring token store against a real Secret Service: each test runs
//! itself again inside a private D-Bus session (`dbus-run-session`) with an
//! unlocked GNOME Keyring and a temporary HOME (STACK.md, "keyring on Linux
//! without a desktop session"), or with no session bus at all.

#![allow(clippy::unwrap_used)]

use std::process::Command;

use aisle_sync::{DeviceToken, KeyringTokenStore, TokenStore, TokenStoreError};

const CHILD: &str = "AISLE_KEYRING_TEST_CHILD";

/// Runs the test `name` of this binary again with `setup`, returning whether
/// it passed.
fn rerun(name: &str, with_keyring: bool) {
    let exe = std::env::current_exe().unwrap();
    let home = tempfile::tempdir().unwrap();
    let runtime = tempfile::tempdir().unwrap();
    let mut command = if with_keyring {
        let mut command = Command::new("dbus-run-session");
        command.args([
            "--",
            "sh",
            "-c",
            "printf aisle-test | gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null \
             && exec \"$0\" --exact \"$1\" --nocapture --test-threads=1",
        ]);
        command.arg(&exe).arg(name);
        command
    } else {
        let mut command = Command::new(&exe);
        command.args(["--exact", name, "--nocapture", "--test-threads=1"]);
        command.env_remove("DBUS_SESSION_BUS_ADDRESS");
        command
    };
    let status = command
        .env(CHILD, "1")
        .env("HOME", home.path())
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env_remove("GNOME_KEYRING_CONTROL")
        .status()
        .unwrap();
    assert!(status.success(), "{name} in its own session: {status}");
}

fn tools_present() -> bool {
    ["dbus-run-session", "gnome-keyring-daemon"]
        .iter()
        .all(|tool| {
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        })
}

#[test]
fn tokens_round_trip_through_the_secret_service() {
    if std::env::var_os(CHILD).is_none() {
        assert!(
            tools_present(),
            "dbus-run-session and gnome-keyring-daemon are needed (cargo xtask setup installs them)"
        );
        rerun("tokens_round_trip_through_the_secret_service", true);
        return;
    }
    let store = KeyringTokenStore::with_service("aisle-test");
    let account = "http://127.0.0.1:8080";
    assert_eq!(store.load(account).unwrap(), None);
    store
        .save(account, &DeviceToken::new("first-token"))
        .unwrap();
    assert_eq!(
        store.load(account).unwrap().unwrap().expose(),
        "first-token"
    );
    store
        .save(account, &DeviceToken::new("second-token"))
        .unwrap();
    assert_eq!(
        store.load(account).unwrap().unwrap().expose(),
        "second-token"
    );
    assert_eq!(store.load("http://other:1").unwrap(), None);
    store.delete(account).unwrap();
    assert_eq!(store.load(account).unwrap(), None);
    store.delete(account).unwrap();
}

#[test]
fn no_keyring_is_a_plain_typed_error() {
    if std::env::var_os(CHILD).is_none() {
        rerun("no_keyring_is_a_plain_typed_error", false);
        return;
    }
    let store = KeyringTokenStore::new();
    let error = store
        .save("http://127.0.0.1:8080", &DeviceToken::new("never-stored"))
        .unwrap_err();
    assert!(
        matches!(error, TokenStoreError::KeyringUnavailable(_)),
        "{error:?}"
    );
    assert!(error.to_string().contains("no OS keyring is available"));
    assert!(!error.to_string().contains("never-stored"));
    assert!(matches!(
        store.check_available(),
        Err(TokenStoreError::KeyringUnavailable(_))
    ));
}

#[test]
fn tokens_never_show_in_debug_output() {
    let token = DeviceToken::new("very-secret-value");
    assert_eq!(format!("{token:?}"), "DeviceToken(<redacted>)");
}
