//! The seeded large demo as a SQLite template shared by the benches: seeding
//! takes minutes, so it is done once into
//! `<target>/bench-feed/large-seed-<seed>.sqlite` and each run works on a
//! fresh copy of it.

use oms_domain::demo::DemoSize;
use oms_server::{Config, DatabaseLocation, DemoSpec};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// Copies the seeded large demo of `seed` to `database`, seeding the template
/// first if it is missing.
pub async fn sqlite_copy_of_seeded_template(seed: u64, database: &Path) {
    let dir = target_dir().join("bench-feed");
    let template = dir.join(format!("large-seed-{seed}.sqlite"));
    if !template.exists() {
        std::fs::create_dir_all(&dir).expect("bench-feed directory");
        let partial = dir.join(format!("seeding-{seed}.sqlite"));
        let _ = std::fs::remove_file(&partial);
        let started = Instant::now();
        let state = oms_server::open(&Config {
            database: DatabaseLocation::SqliteFile(partial.clone()),
            demo: Some(DemoSpec {
                size: DemoSize::Large,
                seed,
            }),
            // Each run registers its own token in its copy of the template.
            demo_template: None,
            bootstrap_admin_token: None,
            outbox: Default::default(),
            footprint: Default::default(),
        })
        .await
        .expect("seed the template");
        // Closing the last connection checkpoints the WAL into the file.
        state.storage.close().await;
        std::fs::rename(&partial, &template).expect("keep the template");
        println!(
            "seeded the large demo template in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    std::fs::copy(&template, database).expect("copy the template");
}
