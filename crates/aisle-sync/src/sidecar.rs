//! The bundled `oms-server` as a child process of the app.
//!
//! Lifecycle rules (DESIGN.md "Embedded default"):
//! - it listens on a free loopback port chosen by the OS (port 0), and
//!   announces its URL and instance id on stdout;
//! - the app trusts it only once `/health` answers with that instance id, so
//!   a stale server on a reused port is never mistaken for ours;
//! - it never outlives the app: its stdin is a pipe from us and it runs with
//!   `--exit-on-stdin-eof`, so when the app dies — even by SIGKILL — the
//!   kernel closes the pipe and the server exits; `kill_on_drop` and
//!   [`Sidecar::stop`] cover the orderly paths.

use oms_api::OmsClient;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use uuid::Uuid;

/// glibc malloc settings for a process serving one device (the sidecar,
/// and the app itself: `src-tauri`'s light environment), unless the user
/// set them:
/// - two arenas instead of glibc's 8 per core: idle arenas kept its memory
///   up (`bench app`);
/// - a fixed mmap threshold: each staff sign-in's Argon2id allocates
///   19 MiB; glibc's dynamic threshold would rise to that size after the
///   first one is freed and serve the next from the heap, where it stays
///   after use (the trim threshold rises with it). Above 256 KiB every
///   block is its own mapping, returned to the system on free.
pub const MALLOC_SETTINGS: [(&str, &str); 2] = [
    ("MALLOC_ARENA_MAX", "2"),
    ("MALLOC_MMAP_THRESHOLD_", "262144"),
];

/// How to start the sidecar.
#[derive(Debug, Clone)]
pub struct SidecarOptions {
    /// The `oms-server` executable.
    pub binary: PathBuf,
    /// Its SQLite database file.
    pub database: PathBuf,
    /// Demo retailer to seed into a new database (`small` or `large`).
    pub demo: Option<String>,
    pub seed: u64,
    /// How long to wait for the ready line and a healthy answer.
    pub start_timeout: Duration,
}

/// Why the sidecar could not be started.
#[derive(Debug, thiserror::Error)]
pub enum SidecarError {
    #[error("the bundled OMS server was not found at {0}")]
    NotFound(PathBuf),
    #[error("cannot start the bundled OMS server: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("the bundled OMS server exited before it was ready ({0})")]
    ExitedEarly(String),
    #[error("the bundled OMS server did not become ready within {0:?}")]
    Timeout(Duration),
    #[error("the bundled OMS server announced something unexpected: {0}")]
    BadAnnouncement(String),
    #[error(
        "a different server answered on the sidecar's port (expected instance {expected}, got {actual})"
    )]
    WrongInstance { expected: Uuid, actual: Uuid },
    #[error(transparent)]
    Client(#[from] oms_api::ClientError),
}

/// A running sidecar. Dropping it kills the process.
#[derive(Debug)]
pub struct Sidecar {
    child: Child,
    /// Held open for the child's lifetime: its EOF is the child's signal to exit.
    stdin: Option<ChildStdin>,
    client: OmsClient,
    instance_id: Uuid,
}

impl Sidecar {
    /// Starts the server and waits until it is healthy and provably ours.
    pub async fn start(options: &SidecarOptions) -> Result<Self, SidecarError> {
        Self::start_on(options, "127.0.0.1:0").await
    }

    /// Like [`Sidecar::start`], listening on `listen` (e.g. the loopback
    /// address of a sidecar that died, to restart it at the same URL).
    pub async fn start_on(options: &SidecarOptions, listen: &str) -> Result<Self, SidecarError> {
        if !options.binary.is_file() {
            return Err(SidecarError::NotFound(options.binary.clone()));
        }
        let mut command = Command::new(&options.binary);
        command
            .arg("--listen")
            .arg(listen)
            .arg("--database")
            .arg(&options.database)
            .arg("--exit-on-stdin-eof")
            // One device's server: small SQLite caches (idle memory).
            .arg("--device-footprint")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some(demo) = &options.demo {
            command
                .arg("--demo")
                .arg(demo)
                .arg("--seed")
                .arg(options.seed.to_string());
        }
        // The app's credential for its own sidecar: fresh at every start,
        // handed over in the environment (not argv, which `ps` shows), held
        // only in memory.
        let token = oms_api::token::new_token();
        command.env("OMS_BOOTSTRAP_ADMIN_TOKEN", &token);
        for (name, value) in MALLOC_SETTINGS {
            if std::env::var_os(name).is_none() {
                command.env(name, value);
            }
        }
        let mut child = command.spawn().map_err(SidecarError::Spawn)?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| SidecarError::BadAnnouncement("no stdout pipe".to_owned()))?;

        let announced =
            tokio::time::timeout(options.start_timeout, read_announcement(stdout)).await;
        let (url, instance_id) = match announced {
            Ok(Ok(found)) => found,
            Ok(Err(error)) => {
                let status = child.try_wait().ok().flatten();
                return Err(match status {
                    Some(status) => SidecarError::ExitedEarly(status.to_string()),
                    None => error,
                });
            }
            Err(_) => return Err(SidecarError::Timeout(options.start_timeout)),
        };
        let client = OmsClient::new(&url)?.with_token(token);
        let health = client.health().await?;
        if health.instance_id != instance_id {
            return Err(SidecarError::WrongInstance {
                expected: instance_id,
                actual: health.instance_id,
            });
        }
        tracing::info!(%url, %instance_id, pid = child.id(), "sidecar ready");
        Ok(Self {
            child,
            stdin,
            client,
            instance_id,
        })
    }

    pub fn client(&self) -> &OmsClient {
        &self.client
    }

    pub fn instance_id(&self) -> Uuid {
        self.instance_id
    }

    /// The child's process id (None once it has been reaped).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Whether the process has exited (e.g. was killed), without waiting.
    pub fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Asks the server to stop (closing its stdin), then kills it if it has
    /// not exited within `grace`.
    pub async fn stop(mut self, grace: Duration) {
        drop(self.stdin.take());
        if tokio::time::timeout(grace, self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// Reads stdout until the `OMS_SERVER_READY <url> <instance>` line, then keeps
/// draining it in the background so the child never blocks on a full pipe.
async fn read_announcement(
    stdout: tokio::process::ChildStdout,
) -> Result<(String, Uuid), SidecarError> {
    let mut lines = BufReader::new(stdout).lines();
    while let Some(line) = lines
        .next_line()
        .await
        .map_err(|e| SidecarError::BadAnnouncement(e.to_string()))?
    {
        let mut parts = line.split_whitespace();
        if parts.next() != Some("OMS_SERVER_READY") {
            continue;
        }
        let (Some(url), Some(instance)) = (parts.next(), parts.next()) else {
            return Err(SidecarError::BadAnnouncement(line));
        };
        let instance =
            Uuid::parse_str(instance).map_err(|_| SidecarError::BadAnnouncement(line.clone()))?;
        let url = url.to_owned();
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        return Ok((url, instance));
    }
    Err(SidecarError::BadAnnouncement(
        "stdout closed before the ready line".to_owned(),
    ))
}

/// Where the sidecar binary sits: next to the app's own executable, which is
/// where both `cargo build` and the Tauri bundler put it.
pub fn binary_beside(executable: &Path) -> PathBuf {
    let name = if cfg!(windows) {
        "oms-server.exe"
    } else {
        "oms-server"
    };
    executable
        .parent()
        .map(|dir| dir.join(name))
        .unwrap_or_else(|| PathBuf::from(name))
}
