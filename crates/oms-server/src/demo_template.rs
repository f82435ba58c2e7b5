//! Demo templates: a demo database seeded once, when the binary is built,
//! and copied on a first start instead of seeding again.
//!
//! The app's embedded server seeds the small demo into a fresh data
//! directory on its first start; seeding costs most of a second, about what
//! the rest of a cold start costs (BENCHMARKS.md, "App"). `cargo xtask`
//! therefore runs `oms-server --demo small --write-demo-template` after
//! building, which seeds a scratch database and writes it out beside the
//! executable as `oms-demo-small-seed-1.sqlite`. A later first start with
//! the same demo copies that file into place (a copy, then a rename: never a
//! half-copied database) and opens it as a restart would.
//!
//! A template is used only when it is provably this binary's: its
//! `server_meta` names the demo (size and seed) and the executable that
//! wrote it (size and modification time). A rebuilt binary — whose demo
//! generator or migrations may differ — ignores an old template and seeds
//! as before, so a stale template costs time, never correctness.
//!
//! The template holds what seeding writes: the catalogue, network, stock,
//! rule sets and the demo staff, whose PINs are public (README, "Demo
//! staff"). It holds no token: the bootstrap admin token is registered at
//! every start, after the copy.

use crate::storage::demo_template::{TEMPLATE_MAKER_KEY, read_meta_of_file};
use crate::storage::{DatabaseLocation, Storage};
use crate::{DemoSpec, StartError, seed_demo, size_name};
use std::path::{Path, PathBuf};

/// A demo template beside an executable, and who that executable is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoTemplate {
    /// The template file.
    pub path: PathBuf,
    /// [`executable_identity`] of the binary that may use it.
    pub maker: String,
}

impl DemoTemplate {
    /// The template of `spec` beside `executable` (which may not exist
    /// yet), or `None` when the executable cannot be identified.
    pub fn beside(executable: &Path, spec: DemoSpec) -> Option<Self> {
        let maker = executable_identity(executable)?;
        let name = format!(
            "oms-demo-{}-seed-{}.sqlite",
            size_name(spec.size),
            spec.seed
        );
        let path = executable.parent()?.join(name);
        Some(Self { path, maker })
    }
}

/// An executable's identity: its size and modification time, which change
/// whenever it is rebuilt.
pub fn executable_identity(executable: &Path) -> Option<String> {
    let metadata = std::fs::metadata(executable).ok()?;
    let modified = metadata
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!("{}-{}", metadata.len(), modified.as_nanos()))
}

/// Seeds `spec` into a scratch database beside the template and writes the
/// template out (replacing an older one). Returns its size in bytes.
pub async fn write(spec: DemoSpec, template: &DemoTemplate) -> Result<u64, StartError> {
    let scratch = with_suffix(&template.path, ".seeding");
    let written = with_suffix(&template.path, ".writing");
    for leftover in [&scratch, &written] {
        remove_database_files(leftover)?;
    }
    let storage = Storage::open(&DatabaseLocation::SqliteFile(scratch.clone())).await?;
    let outcome = async {
        seed_demo(&storage, spec).await?;
        storage
            .set_meta(TEMPLATE_MAKER_KEY, &template.maker)
            .await?;
        storage.vacuum_into(&written).await?;
        Ok::<_, StartError>(())
    }
    .await;
    storage.close().await;
    remove_database_files(&scratch)?;
    outcome?;
    std::fs::rename(&written, &template.path).map_err(|e| io_error(&template.path, e))?;
    std::fs::metadata(&template.path)
        .map(|m| m.len())
        .map_err(|e| io_error(&template.path, e))
}

/// On a first start (no database file yet), copies the template into place
/// if it is this binary's template of `spec`. Returns whether it did; a
/// missing or foreign template is not an error (the demo is seeded instead).
pub async fn install(
    database: &Path,
    spec: DemoSpec,
    template: &DemoTemplate,
) -> Result<bool, StartError> {
    if database.exists() || with_suffix(database, "-wal").exists() || !template.path.is_file() {
        return Ok(false);
    }
    let meta = match read_meta_of_file(&template.path).await {
        Ok(meta) => meta,
        Err(error) => {
            tracing::warn!(template = %template.path.display(), %error, "demo template unreadable; seeding instead");
            return Ok(false);
        }
    };
    let expected = [
        ("demo_size", size_name(spec.size).to_owned()),
        ("demo_seed", spec.seed.to_string()),
        (TEMPLATE_MAKER_KEY, template.maker.clone()),
    ];
    if let Some((key, _)) = expected
        .iter()
        .find(|(key, value)| meta.get(*key) != Some(value))
    {
        tracing::info!(template = %template.path.display(), differs = key, "demo template not made by this binary for this demo; seeding instead");
        return Ok(false);
    }
    let copying = with_suffix(database, ".copying");
    let source = template.path.clone();
    let target = copying.clone();
    tokio::task::spawn_blocking(move || std::fs::copy(&source, &target))
        .await
        .map_err(|e| StartError::DemoTemplate(e.to_string()))?
        .map_err(|e| io_error(&copying, e))?;
    std::fs::rename(&copying, database).map_err(|e| io_error(database, e))?;
    Ok(true)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Removes a SQLite database and its WAL and shared-memory files, if any.
fn remove_database_files(path: &Path) -> Result<(), StartError> {
    for file in [
        path.to_path_buf(),
        with_suffix(path, "-wal"),
        with_suffix(path, "-shm"),
    ] {
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&file, e)),
        }
    }
    Ok(())
}

fn io_error(path: &Path, error: std::io::Error) -> StartError {
    StartError::DemoTemplate(format!("{}: {error}", path.display()))
}
