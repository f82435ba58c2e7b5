//! The real `oms-server` binary on a SQLite file, started and killed with
//! SIGKILL (no graceful shutdown), then started again on the same file.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// The demo retailer's seed (the simulation's own seed drives the day, not
/// the catalogue, so every run starts from the same shop).
pub const DEMO_SEED: u64 = 5;

/// `target/<profile>/oms-server`, beside the test's `deps` directory.
pub fn server_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let binary = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("oms-server"))
        .context("no target directory")?;
    if !binary.is_file() {
        bail!(
            "{} is missing: build it first (cargo build -p oms-server, or cargo xtask test / soak)",
            binary.display()
        );
    }
    Ok(binary)
}

/// A running server process.
#[derive(Debug)]
pub struct Server {
    child: Child,
    _stdin: Option<ChildStdin>,
    pub url: String,
}

impl Server {
    /// Starts the server on `database` (seeding the small demo into it when
    /// it is empty) with `admin_token` as its bootstrap admin credential.
    pub async fn start(
        binary: &Path,
        database: &Path,
        admin_token: &str,
    ) -> anyhow::Result<Server> {
        let verbose = std::env::var_os("AISLE_SIM_VERBOSE").is_some();
        let mut command = Command::new(binary);
        command
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--database")
            .arg(database)
            .arg("--demo")
            .arg("small")
            .arg("--seed")
            .arg(DEMO_SEED.to_string())
            .arg("--exit-on-stdin-eof")
            .env("OMS_BOOTSTRAP_ADMIN_TOKEN", admin_token)
            .env("RUST_LOG", if verbose { "info" } else { "error" })
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if verbose {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .kill_on_drop(true);
        let mut child = command.spawn().context("cannot start oms-server")?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(120), async {
            while let Some(line) = lines.next_line().await? {
                let mut parts = line.split_whitespace();
                if parts.next() == Some("OMS_SERVER_READY") {
                    return Ok::<_, anyhow::Error>(parts.next().map(str::to_owned));
                }
            }
            Ok(None)
        })
        .await
        .context("oms-server did not become ready within 120 s")??
        .context("oms-server exited before it was ready")?;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server {
            child,
            _stdin: stdin,
            url,
        })
    }

    /// `kill -9`: no shutdown hook runs, in-flight transactions are lost
    /// (or not) exactly as SQLite's journal decides.
    pub async fn kill9(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}
