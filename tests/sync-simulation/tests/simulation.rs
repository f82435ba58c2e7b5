//! The sync simulation (see the crate documentation): a fixed set of seeds
//! in `cargo xtask test`, more with `cargo xtask soak`.
//!
//! - `AISLE_SIM_SEED=<s>`: that seed only (replaying a failure);
//! - `AISLE_SIM_SEEDS=<n>`: n seeds from `AISLE_SIM_SEED_BASE` (default: a
//!   base taken from the clock, printed);
//! - neither: the fixed seeds below.
//!
//! Needs `oms-server` built in the same profile (`cargo xtask test` and
//! `cargo xtask soak` build it first).

use std::time::Instant;

use sync_simulation::{SimConfig, replay_hint, run};

/// The seeds `cargo xtask test` runs: keep their total under ~2 minutes.
const FIXED_SEEDS: [u64; 2] = [7, 2026];

fn seeds() -> Vec<u64> {
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    if let Some(seed) = var("AISLE_SIM_SEED") {
        return vec![seed];
    }
    if let Some(n) = var("AISLE_SIM_SEEDS") {
        let base = var("AISLE_SIM_SEED_BASE").unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() % 1_000_000 * 1_000)
                .unwrap_or(0)
        });
        println!("soak: {n} seeds from {base}");
        return (0..n).map(|i| base + i).collect();
    }
    FIXED_SEEDS.to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn devices_and_core_converge_under_faults() {
    let started = Instant::now();
    let mut failures = Vec::new();
    for seed in seeds() {
        println!("seed {seed}: {}", replay_hint(seed));
        match run(&SimConfig::new(seed)).await {
            Ok(report) => println!("ok {report}"),
            Err(error) => {
                println!("FAILED seed {seed}: {error:#}");
                failures.push(format!("seed {seed}: {error:#}"));
            }
        }
    }
    println!("simulation: {:.1?} in all", started.elapsed());
    assert!(
        failures.is_empty(),
        "sync simulation failed for {} seed(s):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
