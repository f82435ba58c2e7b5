//! Installs what is missing, and only that, so a second run goes straight to
//! work: Debian packages (through apt when root), npm packages (`npm ci`
//! when package-lock.json changed) and tauri-driver (into `.tools/`).

use crate::util::{Failure, capture, cargo, on_path, repo_root, run, step};
use std::path::PathBuf;
use std::process::Command;

/// Debian/Ubuntu packages the build, the app and the tests need
/// (see ../shared/STACK.md for why each is there).
const SYSTEM_PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "file",
    "libssl-dev",
    "libwebkit2gtk-4.1-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libxdo-dev",
    // End-to-end tests: a virtual display and WebKit's WebDriver.
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    // The OS keyring (Secret Service) for device tokens, headless in tests.
    "dbus",
    "dbus-x11",
    "gnome-keyring",
    "libsecret-tools",
    // Scale-out tests run against a real PostgreSQL server.
    "postgresql",
    "imagemagick",
];

/// tauri-driver version installed into `.tools/` (WebDriver for Tauri apps).
const TAURI_DRIVER_VERSION: &str = "2.1.0";

/// Paths of the tools the other commands use.
#[derive(Debug)]
pub struct Tools {
    pub tauri_driver: PathBuf,
    pub xvfb_run: PathBuf,
}

pub fn ensure_all() -> Result<Tools, Failure> {
    ensure_system_packages()?;
    ensure_node()?;
    ensure_npm_packages()?;
    let tauri_driver = ensure_tauri_driver()?;
    let xvfb_run = on_path("xvfb-run")
        .ok_or_else(|| Failure::Missing("xvfb-run is missing although xvfb is installed".into()))?;
    Ok(Tools {
        tauri_driver,
        xvfb_run,
    })
}

fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

fn ensure_system_packages() -> Result<(), Failure> {
    if on_path("dpkg-query").is_none() {
        println!(
            "xtask: not a Debian/Ubuntu system; make sure the equivalents of {SYSTEM_PACKAGES:?} are installed"
        );
        return Ok(());
    }
    let missing: Vec<&str> = SYSTEM_PACKAGES
        .iter()
        .copied()
        .filter(|p| !is_installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let install = format!(
        "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    );
    if !is_root() {
        return Err(Failure::Missing(format!(
            "missing system packages: {}\ninstall them with:\n  sudo sh -c '{install}'",
            missing.join(" ")
        )));
    }
    step(&format!(
        "installing system packages: {}",
        missing.join(" ")
    ));
    run(Command::new("apt-get").arg("update"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

fn ensure_node() -> Result<(), Failure> {
    let version = capture(Command::new("node").arg("--version")).map_err(|_| {
        Failure::Missing(
            "Node.js 20.19 or newer is required for the UI build (https://nodejs.org or your distribution's nodejs package)".into(),
        )
    })?;
    let major: u32 = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 20 {
        return Err(Failure::Missing(format!(
            "Node.js {} is too old: the UI build needs 20.19 or newer",
            version.trim()
        )));
    }
    Ok(())
}

/// `npm ci` when node_modules is missing or was installed from another lock
/// file (a copy of the lock file it was installed from is kept beside it).
fn ensure_npm_packages() -> Result<(), Failure> {
    let ui = repo_root().join("ui");
    let lock = ui.join("package-lock.json");
    let stamp = ui.join("node_modules/.aisle-installed-lock.json");
    let wanted = std::fs::read(&lock).map_err(|e| Failure::Io(lock.clone(), e))?;
    if std::fs::read(&stamp).ok().as_deref() == Some(wanted.as_slice()) {
        return Ok(());
    }
    step("npm ci (ui/)");
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&ui))?;
    std::fs::write(&stamp, &wanted).map_err(|e| Failure::Io(stamp, e))
}

fn ensure_tauri_driver() -> Result<PathBuf, Failure> {
    let root = repo_root().join(".tools");
    let binary = root.join("bin/tauri-driver");
    if binary.is_file() {
        return Ok(binary);
    }
    step(&format!(
        "installing tauri-driver {TAURI_DRIVER_VERSION} into .tools/"
    ));
    run(cargo()
        .args([
            "install",
            "tauri-driver",
            "--locked",
            "--version",
            TAURI_DRIVER_VERSION,
            "--root",
        ])
        .arg(&root))?;
    Ok(binary)
}

/// A PostgreSQL server for the scale-out tests: Debian's cluster, started on
/// 127.0.0.1, with a role `aisle` that may create the throwaway databases each
/// test makes for itself. Returns the admin URL the tests receive in
/// `AISLE_TEST_POSTGRES_URL`, or explains what is missing.
pub fn ensure_postgres() -> Result<String, Failure> {
    if let Ok(url) = std::env::var("AISLE_TEST_POSTGRES_URL")
        && !url.is_empty()
    {
        return Ok(url);
    }
    if !is_root() {
        return Err(Failure::Missing(
            "the PostgreSQL tests need a server: set AISLE_TEST_POSTGRES_URL=postgres://user:password@127.0.0.1:5432/postgres \
             (a role allowed to CREATE DATABASE), or run `cargo xtask test` as root to use Debian's cluster"
                .into(),
        ));
    }
    let clusters = capture(Command::new("pg_lsclusters").arg("--no-header"))?;
    let cluster = clusters.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [version, name, port, status, ..] => Some((
                version.to_string(),
                name.to_string(),
                port.to_string(),
                *status == "online",
            )),
            _ => None,
        }
    });
    let (version, name, port, online) = match cluster {
        Some(found) => found,
        None => {
            step("creating a PostgreSQL cluster");
            let versions = std::fs::read_dir("/usr/lib/postgresql")
                .map_err(|e| Failure::Io("/usr/lib/postgresql".into(), e))?;
            let version = versions
                .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                .max()
                .ok_or_else(|| {
                    Failure::Missing("no PostgreSQL server version is installed".into())
                })?;
            run(Command::new("pg_createcluster").args([version.as_str(), "main"]))?;
            (version, "main".to_owned(), "5432".to_owned(), false)
        }
    };
    if !online {
        step(&format!(
            "starting PostgreSQL {version}/{name} on 127.0.0.1:{port}"
        ));
        run(Command::new("pg_ctlcluster").args([version.as_str(), name.as_str(), "start"]))?;
    }
    let psql = |sql: &str| -> Result<String, Failure> {
        capture(
            Command::new("runuser")
                .args([
                    "-u",
                    "postgres",
                    "--",
                    "psql",
                    "-p",
                    port.as_str(),
                    "-tAc",
                    sql,
                ])
                .current_dir("/"),
        )
    };
    let exists = psql("SELECT 1 FROM pg_roles WHERE rolname = 'aisle'")?;
    if exists.trim() != "1" {
        psql("CREATE ROLE aisle LOGIN CREATEDB PASSWORD 'aisle'")?;
    }
    Ok(format!("postgres://aisle:aisle@127.0.0.1:{port}/postgres"))
}
