//! Process helpers shared by the xtask commands.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Why an xtask command failed. Printed once, in `main`.
#[derive(Debug)]
pub enum Failure {
    Usage(String),
    Command { what: String, status: String },
    Spawn { what: String, error: std::io::Error },
    Io(PathBuf, std::io::Error),
    Check(String),
    Missing(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(text) => f.write_str(text),
            Failure::Command { what, status } => write!(f, "`{what}` failed ({status})"),
            Failure::Spawn { what, error } => write!(f, "cannot start `{what}`: {error}"),
            Failure::Io(path, error) => write!(f, "{}: {error}", path.display()),
            Failure::Check(text) => write!(f, "check failed: {text}"),
            Failure::Missing(text) => f.write_str(text),
        }
    }
}

/// The repository root: the nearest directory at or above the current one
/// that holds `xtask/Cargo.toml` (`cargo xtask` runs from anywhere inside
/// the repository). Falls back to where xtask was compiled from.
pub fn repo_root() -> PathBuf {
    let compiled = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let fallback = compiled.parent().map(Path::to_path_buf).unwrap_or(compiled);
    let Ok(current) = std::env::current_dir() else {
        return fallback;
    };
    current
        .ancestors()
        .find(|dir| dir.join("xtask/Cargo.toml").is_file() && dir.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
        .unwrap_or(fallback)
}

/// The shared cargo target directory.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
}

/// `cargo` from the toolchain that runs xtask, at the repository root.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(repo_root());
    command
}

/// Prints a step header.
pub fn step(title: &str) {
    println!("\n==> {title}");
}

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Runs a command with inherited output; fails on a non-zero exit.
pub fn run(command: &mut Command) -> Result<(), Failure> {
    let what = describe(command);
    let status = command.status().map_err(|error| Failure::Spawn {
        what: what.clone(),
        error,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::Command {
            what,
            status: status.to_string(),
        })
    }
}

/// Runs a command and returns its stdout; fails on a non-zero exit.
pub fn capture(command: &mut Command) -> Result<String, Failure> {
    let what = describe(command);
    let output = command.output().map_err(|error| Failure::Spawn {
        what: what.clone(),
        error,
    })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        Err(Failure::Command {
            what,
            status: output.status.to_string(),
        })
    }
}

/// Whether an executable is on PATH.
pub fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
