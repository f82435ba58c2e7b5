//! The `oms-server` binary: the OMS core service, and the app's sidecar.

use anyhow::Context;
use clap::Parser;
use oms_domain::demo::DemoSize;
use oms_server::demo_template::{self, DemoTemplate};
use oms_server::{Config, DatabaseLocation, DemoSpec};
use std::io::Write;
use std::net::SocketAddr;
use tokio::io::AsyncReadExt;
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

/// The first line the server writes on stdout once it accepts connections:
/// `OMS_SERVER_READY <base url> <instance id>`. The app waits for it.
const READY_PREFIX: &str = "OMS_SERVER_READY";

#[derive(Debug, Parser)]
#[command(name = "oms-server", version, about = "Aisle OMS core service")]
struct Cli {
    /// Address to listen on; port 0 picks a free port (printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8080", env = "OMS_LISTEN")]
    listen: SocketAddr,
    /// SQLite database file (created if missing), or a `postgres://` URL.
    #[arg(
        long,
        alias = "database-url",
        default_value = "oms.sqlite",
        env = "OMS_DATABASE"
    )]
    database: String,
    /// Seed the demo retailer (`small` or `large`) into an empty database.
    #[arg(long, value_parser = parse_demo_size)]
    demo: Option<DemoSize>,
    /// Seed of the demo retailer: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seed the `--demo` retailer once and write it out beside this
    /// executable as a demo template (`oms-demo-<size>-seed-<seed>.sqlite`),
    /// then exit. First starts with the same demo copy it instead of seeding
    /// (`cargo xtask` does this after every build of the app).
    #[arg(long, requires = "demo")]
    write_demo_template: bool,
    /// Exit when standard input reaches end-of-file. The app passes this to
    /// its sidecar: if the app dies, even by SIGKILL, the pipe closes and the
    /// server follows instead of keeping the port.
    #[arg(long)]
    exit_on_stdin_eof: bool,
    /// Keep the memory of one store device's embedded server: fewer and
    /// smaller SQLite page caches (the app passes this to its sidecar).
    #[arg(long)]
    device_footprint: bool,
    /// Where order events are POSTed as signed webhooks (secret:
    /// OMS_WEBHOOK_SECRET, from the environment only). Unset: they wait.
    #[arg(long, env = "OMS_WEBHOOK_URL")]
    webhook_url: Option<String>,
    /// Where rendered customer notifications are POSTed (signed like
    /// webhooks). Unset: they wait.
    #[arg(long, env = "OMS_NOTIFICATION_URL")]
    notification_url: Option<String>,
    /// The payment gateway's base URL (API key: OMS_PAYMENT_GATEWAY_KEY, from
    /// the environment only). Unset: gateway payments wait.
    #[arg(long, env = "OMS_PAYMENT_GATEWAY_URL")]
    payment_gateway_url: Option<String>,
    /// Failed deliveries after which a webhook or notification is dead
    /// (replay it with `POST /v1/outbox/{id}/replay`).
    #[arg(long, default_value_t = 10, env = "OMS_OUTBOX_MAX_ATTEMPTS")]
    outbox_max_attempts: u32,
}

/// A secret from the environment (never a flag: command lines show in `ps`).
fn secret_from_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.trim().is_empty())
}

fn parse_demo_size(s: &str) -> Result<DemoSize, String> {
    s.parse()
        .map_err(|e: oms_domain::demo::UnknownDemoSize| e.to_string())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Logs go to stderr: stdout carries the ready line only.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let demo = cli.demo.map(|size| DemoSpec {
        size,
        seed: cli.seed,
    });
    // This binary's demo template, if it can identify itself.
    let template = demo.and_then(|spec| {
        let executable = std::env::current_exe().ok()?;
        DemoTemplate::beside(&executable, spec)
    });
    if cli.write_demo_template {
        let (Some(spec), Some(template)) = (demo, template) else {
            anyhow::bail!("--write-demo-template needs --demo and an identifiable executable");
        };
        let bytes = demo_template::write(spec, &template)
            .await
            .context("cannot write the demo template")?;
        tracing::info!(path = %template.path.display(), bytes, "demo template written");
        return Ok(());
    }

    let config = Config {
        database: DatabaseLocation::parse(&cli.database),
        // Read from the environment only: a command-line argument would show
        // in `ps` to every user of the machine.
        bootstrap_admin_token: std::env::var("OMS_BOOTSTRAP_ADMIN_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty()),
        demo,
        demo_template: template,
        outbox: oms_server::OutboxConfig {
            webhook_url: cli.webhook_url.filter(|u| !u.trim().is_empty()),
            webhook_secret: secret_from_env("OMS_WEBHOOK_SECRET"),
            notification_url: cli.notification_url.filter(|u| !u.trim().is_empty()),
            payment_gateway_url: cli.payment_gateway_url.filter(|u| !u.trim().is_empty()),
            payment_gateway_key: secret_from_env("OMS_PAYMENT_GATEWAY_KEY"),
            max_attempts: cli.outbox_max_attempts,
            ..Default::default()
        },
        footprint: if cli.device_footprint {
            oms_server::Footprint::Device
        } else {
            oms_server::Footprint::Server
        },
    };
    let state = oms_server::open(&config)
        .await
        .context("cannot start the OMS server")?;
    let listener = tokio::net::TcpListener::bind(cli.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cli.listen))?;
    let address = listener.local_addr()?;
    let instance_id = state.instance_id;

    let (stop_tx, mut stop_rx) = watch::channel(false);
    if cli.exit_on_stdin_eof {
        let stop = stop_tx.clone();
        tokio::spawn(async move {
            let mut stdin = tokio::io::stdin();
            let mut buffer = [0u8; 256];
            // Anything written to stdin is ignored; only its end matters.
            while matches!(stdin.read(&mut buffer).await, Ok(n) if n > 0) {}
            tracing::info!("standard input closed: the parent is gone, shutting down");
            let _ = stop.send(true);
        });
    }
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("signal received, shutting down");
        let _ = stop_tx.send(true);
    });

    tracing::info!(url = %format!("http://{address}"), %instance_id, "oms-server listening");
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{READY_PREFIX} http://{address} {instance_id}")?;
        stdout.flush()?;
    }
    oms_server::serve(listener, state, async move {
        let _ = stop_rx.wait_for(|stop| *stop).await;
    })
    .await?;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
