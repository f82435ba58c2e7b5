//! `cargo xtask <command>`: Aisle's developer workflow, as a Rust program.
//!
//! - `run [--headless | --xvfb]`: install what is missing, build, start the app
//!   (or the server alone with `--headless`).
//! - `test`: every check CI runs — formatting, lints, architecture rules, UI
//!   type check/lint/tests, all Rust tests and the WebDriver end-to-end tests.
//! - `bench <name>`: one of the benchmarks listed in BENCHMARKS.md.
//! - `soak [--seeds N | --seed S]`: the sync simulation on many seeds, or
//!   one failing seed replayed.
//! - `setup`: only the installation step (idempotent).

mod setup;
mod util;

use std::process::ExitCode;
use util::{Failure, cargo, repo_root, run, step};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  run [--headless|--xvfb]   build and start the app (--headless: the OMS server alone)
  test                      every check: fmt, clippy, architecture, UI, Rust tests, e2e
  bench <name>              run a benchmark: atp, orchestrate, atp-http, feed, orders, sync, app (BENCHMARKS.md)
                            (app [--debug]: the app window's cold start, search keystroke and memory)
  soak [--seeds N | --seed S]  the sync simulation on N new seeds (default 20), or replay seed S
  setup                     install missing system and npm packages, then stop";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => commands::run_app(&args[1..]),
        Some("test") => commands::test(&args[1..]),
        Some("bench") => commands::bench(&args[1..]),
        Some("soak") => commands::soak(&args[1..]),
        Some("setup") => setup::ensure_all().map(|_| ()),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(Failure::Usage(USAGE.to_owned())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("\nxtask: {failure}");
            ExitCode::FAILURE
        }
    }
}

mod commands {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    /// Crates the domain must never depend on (ARCHITECTURE.md, invariant 1).
    const FORBIDDEN_IN_DOMAIN: &[&str] = &[
        "tokio", "sqlx", "axum", "hyper", "reqwest", "tauri", "keyring", "tower",
    ];

    /// Builds the UI bundle (embedded into the app) and the whole workspace
    /// with one feature selection, so dependencies compile once.
    pub fn build_all() -> Result<(), Failure> {
        let root = repo_root();
        step("UI bundle (tsc + vite build)");
        run(Command::new("npm")
            .args(["run", "--silent", "build"])
            .current_dir(root.join("ui")))?;
        // --all-targets: tests' dev-dependencies take part in feature
        // resolution, so `cargo test` afterwards reuses every artifact instead
        // of rebuilding half the dependency graph with other features.
        step("cargo build --workspace --all-targets");
        run(cargo().args(["build", "--workspace", "--all-targets"]))
    }

    pub fn run_app(args: &[String]) -> Result<(), Failure> {
        let headless = args.iter().any(|a| a == "--headless");
        let xvfb = args.iter().any(|a| a == "--xvfb");
        if let Some(unknown) = args
            .iter()
            .find(|a| !matches!(a.as_str(), "--headless" | "--xvfb"))
        {
            return Err(Failure::Usage(format!(
                "unknown option {unknown}\n\n{USAGE}"
            )));
        }
        let tools = setup::ensure_all()?;
        build_all()?;
        let root = repo_root();
        let target = util::target_dir();
        if headless {
            let data = target.join("aisle-dev");
            std::fs::create_dir_all(&data).map_err(|e| Failure::Io(data.clone(), e))?;
            // Every /v1 route needs a token: make a fresh admin token for this
            // run and show it once, on the developer's own terminal.
            let token = dev_token()?;
            step("oms-server (headless) — the URL is printed below; Ctrl+C stops it");
            println!("admin token for this run (send as `Authorization: Bearer …`):\n  {token}");
            return util::run(
                Command::new(target.join("debug/oms-server"))
                    .env("OMS_BOOTSTRAP_ADMIN_TOKEN", &token)
                    .args([
                        "--listen",
                        "127.0.0.1:8080",
                        "--demo",
                        "small",
                        "--seed",
                        "1",
                        "--database",
                    ])
                    .arg(data.join("oms.sqlite"))
                    .current_dir(&root),
            );
        }
        write_demo_template(&target.join("debug"))?;
        let app = target.join("debug/aisle");
        let has_display = std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
            || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty());
        if has_display {
            step("Aisle");
            return util::run(Command::new(app).current_dir(&root));
        }
        if xvfb {
            step("Aisle under Xvfb (no window is visible; use the e2e tests or screenshots)");
            return util::run(
                Command::new(&tools.xvfb_run)
                    .args(["-a", "-s", "-screen 0 1280x800x24"])
                    .arg(app)
                    .current_dir(&root),
            );
        }
        Err(Failure::Usage(
            "no display found (neither DISPLAY nor WAYLAND_DISPLAY is set).\n  \
             `cargo xtask run --headless` runs the OMS server alone and prints its URL;\n  \
             `cargo xtask run --xvfb` runs the app window under a virtual display."
                .to_owned(),
        ))
    }

    /// A random token from the kernel's generator (three random UUIDs).
    fn dev_token() -> Result<String, Failure> {
        let source = Path::new("/proc/sys/kernel/random/uuid");
        let mut token = String::from("aisle_");
        for _ in 0..3 {
            let uuid =
                std::fs::read_to_string(source).map_err(|e| Failure::Io(source.into(), e))?;
            token.extend(uuid.trim().chars().filter(|c| *c != '-'));
        }
        Ok(token)
    }

    pub fn test(args: &[String]) -> Result<(), Failure> {
        if let Some(unknown) = args.first() {
            return Err(Failure::Usage(format!(
                "unknown option {unknown}\n\n{USAGE}"
            )));
        }
        let started = std::time::Instant::now();
        let tools = setup::ensure_all()?;
        let root = repo_root();
        let ui = root.join("ui");

        step("cargo fmt --check");
        run(cargo().args(["fmt", "--all", "--check"]))?;

        step("architecture: oms-domain does no I/O");
        check_domain_is_pure()?;

        build_all()?;

        step("cargo clippy --all-targets -- -D warnings");
        run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))?;

        step("UI: type check, lint, unit tests");
        run(Command::new("npm")
            .args(["run", "--silent", "typecheck"])
            .current_dir(&ui))?;
        run(Command::new("npm")
            .args(["run", "--silent", "lint"])
            .current_dir(&ui))?;
        run(Command::new("npm")
            .args(["run", "--silent", "test"])
            .current_dir(&ui))?;

        step("PostgreSQL for the scale-out tests");
        let postgres = setup::ensure_postgres()?;

        step("Rust tests (cargo test --workspace)");
        run(cargo()
            .args(["test", "--workspace"])
            .env("AISLE_TEST_POSTGRES_URL", postgres))?;

        step("end-to-end: the real app window over WebDriver, under Xvfb");
        write_demo_template(&util::target_dir().join("debug"))?;
        e2e(&tools, &root)?;

        println!("\nxtask: all checks passed in {:.0?}", started.elapsed());
        Ok(())
    }

    fn check_domain_is_pure() -> Result<(), Failure> {
        let output = util::capture(cargo().args([
            "tree",
            "--package",
            "oms-domain",
            "--edges",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ]))?;
        let offenders: Vec<&str> = output
            .lines()
            .filter(|line| {
                let name = line.split_whitespace().next().unwrap_or_default();
                FORBIDDEN_IN_DOMAIN
                    .iter()
                    .any(|f| name == *f || name.starts_with(&format!("{f}-")))
            })
            .collect();
        if offenders.is_empty() {
            println!("oms-domain depends on none of {FORBIDDEN_IN_DOMAIN:?}");
            Ok(())
        } else {
            Err(Failure::Check(format!(
                "oms-domain must stay pure but depends on: {}",
                offenders.join(", ")
            )))
        }
    }

    /// The embedded demo's template beside the freshly built `oms-server`
    /// in `binary_dir`, so the app's first start copies it instead of
    /// seeding (oms-server's `demo_template` module). Written by that very
    /// binary, so a rebuilt one never uses an old template.
    fn write_demo_template(binary_dir: &Path) -> Result<(), Failure> {
        step("the small demo's template beside oms-server (the app's first start copies it)");
        run(Command::new(binary_dir.join("oms-server")).args([
            "--demo",
            "small",
            "--seed",
            "1",
            "--write-demo-template",
        ]))
    }

    fn e2e(tools: &setup::Tools, root: &Path) -> Result<(), Failure> {
        let target = util::target_dir();
        run(Command::new(&tools.xvfb_run)
            .args(["-a", "-s", "-screen 0 1280x800x24"])
            .args(["node", "--test", "--test-concurrency=1", "tests/e2e/"])
            .env("AISLE_APP", target.join("debug/aisle"))
            .env("TAURI_DRIVER", &tools.tauri_driver)
            .env("AISLE_SCREENSHOTS", root.join("docs/screenshots"))
            .env("AISLE_E2E_TMP", target.join("e2e"))
            .current_dir(root))
    }

    /// The sync simulation (tests/sync-simulation) on many seeds, or one
    /// seed replayed. Debug profile: it shares the artifacts of `test`.
    pub fn soak(args: &[String]) -> Result<(), Failure> {
        let (name, value) = match args {
            [] => ("AISLE_SIM_SEEDS", "20".to_owned()),
            [flag, value] if flag == "--seeds" => ("AISLE_SIM_SEEDS", value.clone()),
            [flag, value] if flag == "--seed" => ("AISLE_SIM_SEED", value.clone()),
            _ => return Err(Failure::Usage(USAGE.to_owned())),
        };
        if value.parse::<u64>().is_err() {
            return Err(Failure::Usage(format!(
                "{value} is not a number\n\n{USAGE}"
            )));
        }
        step("cargo build -p oms-server (the simulation starts the real binary)");
        run(cargo().args(["build", "--package", "oms-server"]))?;
        step(&format!("sync simulation: {name}={value}"));
        let mut command = cargo();
        command
            .args([
                "test",
                "--package",
                "sync-simulation",
                "--test",
                "simulation",
                "--",
                "--nocapture",
            ])
            .env(name, value);
        if let Ok(base) = std::env::var("AISLE_SIM_SEED_BASE") {
            command.env("AISLE_SIM_SEED_BASE", base);
        }
        run(&mut command)
    }

    /// `bench app [--debug]`: the app's performance targets (issue 8) on
    /// the real window over WebDriver, under Xvfb (`tests/perf/app.mjs`).
    /// Release build by default (what users run); `--debug` reuses the
    /// development build.
    fn bench_app(args: &[String]) -> Result<(), Failure> {
        let debug = match args {
            [] => false,
            [flag] if flag == "--debug" => true,
            _ => return Err(Failure::Usage(USAGE.to_owned())),
        };
        let tools = setup::ensure_all()?;
        let root = repo_root();
        step("UI bundle (tsc + vite build)");
        run(Command::new("npm")
            .args(["run", "--silent", "build"])
            .current_dir(root.join("ui")))?;
        let profile = if debug { "debug" } else { "release" };
        step(&format!(
            "cargo build ({profile}): the app and its sidecar, side by side"
        ));
        let mut build = cargo();
        build.args(["build", "--package", "aisle", "--package", "oms-server"]);
        if !debug {
            build.arg("--release");
        }
        run(&mut build)?;
        let target = util::target_dir();
        write_demo_template(&target.join(profile))?;
        let out = target.join("bench-app");
        // A seeded large demo (seed 1): the sync bench's if there is one,
        // else this bench's own (made by its first run).
        let shared = target.join("bench-sync/large-seed-1.sqlite");
        let template = if shared.is_file() {
            shared
        } else {
            out.join("large-seed-1.sqlite")
        };
        step(&format!(
            "benchmark: the app ({profile}): cold start, idle memory, search keystroke on the large demo"
        ));
        run(Command::new(&tools.xvfb_run)
            .args(["-a", "-s", "-screen 0 1280x800x24"])
            .args(["node", "tests/perf/app.mjs"])
            .env("AISLE_APP", target.join(profile).join("aisle"))
            .env("TAURI_DRIVER", &tools.tauri_driver)
            .env("AISLE_E2E_TMP", out.join("tmp"))
            .env("AISLE_BENCH_LARGE_TEMPLATE", template)
            .env("AISLE_BENCH_OUT", out.join(format!("{profile}.json")))
            .current_dir(&root))
    }

    pub fn bench(args: &[String]) -> Result<(), Failure> {
        match args.first().map(String::as_str) {
            Some("atp") => {
                step("benchmark: ATP on the large demo shape (oms-domain)");
                run(cargo().args(["bench", "--package", "oms-domain", "--bench", "atp"]))
            }
            Some("orchestrate") => {
                step("benchmark: orchestration and simulation on the large demo (oms-domain)");
                run(cargo().args(["bench", "--package", "oms-domain", "--bench", "orchestrate"]))
            }
            Some("atp-http") => {
                step("benchmark: product ATP over HTTP on loopback, large demo (oms-server)");
                run(cargo().args(["bench", "--package", "oms-server", "--bench", "atp_http"]))
            }
            Some("feed") => {
                step(
                    "benchmark: a 1,000,000-row stock feed into a real server (oms-server; \
                     PostgreSQL too when AISLE_TEST_POSTGRES_URL is set)",
                );
                run(cargo().args(["bench", "--package", "oms-server", "--bench", "feed"]))
            }
            Some("orders") => {
                step(
                    "benchmark: orders placed over HTTP (oms-server): SQLite, then two \
                     instances on one PostgreSQL",
                );
                let postgres = setup::ensure_postgres()?;
                run(cargo()
                    .args(["bench", "--package", "oms-server", "--bench", "orders"])
                    .env("AISLE_TEST_POSTGRES_URL", postgres))
            }
            Some("sync") => {
                step(
                    "benchmark: the app's sync (aisle-sync) against the real server, large \
                     demo: full pull, search, incremental pull, 1,000 actions pushed",
                );
                // The bench starts the release server binary.
                run(cargo().args([
                    "build",
                    "--release",
                    "--package",
                    "oms-server",
                    "--bin",
                    "oms-server",
                ]))?;
                run(cargo().args(["bench", "--package", "aisle-sync", "--bench", "sync"]))
            }
            Some("app") => bench_app(&args[1..]),
            Some(other) => Err(Failure::Usage(format!(
                "unknown benchmark `{other}`\n\n{USAGE}"
            ))),
            None => Err(Failure::Usage(USAGE.to_owned())),
        }
    }
}
