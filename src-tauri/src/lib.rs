//! The Aisle app's shell: window, IPC commands, logging, and the OMS core
//! connection (sidecar or central server). Business logic lives in the crates;
//! this stays thin.

mod backend;
mod checkout;
mod commands;
mod device;
mod dto;
mod error;
mod geo;
#[cfg(test)]
mod ipc_types;
mod pairing;
mod remote;
mod staff;

pub use error::{AppError, ErrorCode};

use backend::Backend;
use std::path::PathBuf;
use tauri::Manager;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Starts the app and blocks until it exits.
pub fn run() {
    #[cfg(target_os = "linux")]
    reexec_with_webkit_environment();
    let app = tauri::Builder::default()
        .setup(|app| {
            let data_dir = data_dir(app.handle())?;
            std::fs::create_dir_all(&data_dir)?;
            let guard = init_logging(&data_dir);
            app.manage(LogGuard(guard));
            tracing::info!(data_dir = %data_dir.display(), "Aisle starting");
            app.manage(Backend::start(data_dir));
            app.manage(staff::Session::default());
            lighter_webview(app);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::pairing_state,
            commands::pair_device,
            commands::use_embedded_server,
            commands::forget_device,
            commands::sync_status,
            commands::sync_now,
            commands::carry_out_sale,
            commands::refused_actions,
            commands::search_products,
            commands::search_filter_values,
            commands::product_detail,
            commands::product_atp,
            commands::cart_atp,
            commands::place_order,
            commands::search_orders,
            commands::order_detail,
            commands::receive_return,
            commands::store_queue,
            commands::fulfilment_detail,
            commands::fulfilment_step,
            commands::open_label,
            checkout::search_customers,
            checkout::create_customer,
            checkout::open_receipt,
            checkout::email_receipt,
            staff::staff_list,
            staff::current_staff,
            staff::staff_sign_in,
            staff::staff_sign_out,
            staff::return_without_receipt,
        ])
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            eprintln!("Aisle could not start: {error}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event {
            let backend = handle.state::<Backend>().inner().clone();
            tauri::async_runtime::block_on(backend.shutdown());
        }
    });
}

/// `AISLE_WEBVIEW_COMPOSITING=1` keeps WebKitGTK's defaults (accelerated
/// compositing, browser-sized caches) instead of [`lighter_webview`].
#[cfg(target_os = "linux")]
fn compositing_requested() -> bool {
    std::env::var_os("AISLE_WEBVIEW_COMPOSITING").is_some_and(|v| v == "1")
}

/// WebKitGTK reads two rendering choices only from the environment, when it
/// starts: paint with Skia on the CPU (`WEBKIT_SKIA_ENABLE_CPU_RENDERING`)
/// and no DMA-BUF renderer between the web and UI processes
/// (`WEBKIT_DISABLE_DMABUF_RENDERER`). Without compositing (see
/// [`lighter_webview`]) GL buys this flat UI nothing, and its buffers cost
/// both processes memory (5–8 MB together under Mesa's software GL, `cargo
/// xtask bench app`). The workspace forbids `unsafe`, so the environment
/// cannot be changed in-process (`set_var`); instead the app replaces itself
/// once (same pid, same arguments) with those variables set. A variable the
/// user set is left as it is; a failed exec starts the app as it is.
#[cfg(target_os = "linux")]
fn reexec_with_webkit_environment() {
    use std::os::unix::process::CommandExt;
    const DONE: &str = "AISLE_WEBKIT_ENVIRONMENT";
    const CHOICES: [(&str, &str); 2] = [
        ("WEBKIT_SKIA_ENABLE_CPU_RENDERING", "1"),
        ("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
    ];
    if compositing_requested() || std::env::var_os(DONE).is_some() {
        return;
    }
    if CHOICES
        .iter()
        .all(|(name, _)| std::env::var_os(name).is_some())
    {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    command.args(args).env(DONE, "1");
    for (name, value) in CHOICES {
        if std::env::var_os(name).is_none() {
            command.env(name, value);
        }
    }
    // Only returns if the exec failed.
    let error = command.exec();
    eprintln!("Aisle: starting with WebKit's rendering defaults ({error})");
}

/// A lighter web process for this one local page: WebKitGTK renders it
/// without accelerated compositing (the UI is flat lists and forms with no
/// animation or 3D; compositing through Mesa's software GL where there is no
/// GPU, e.g. under Xvfb, cost the web process ~75 MB: `cargo xtask bench
/// app`, BENCHMARKS.md), and with no browser-sized memory caches (the
/// document-viewer cache model). The default on Linux;
/// `AISLE_WEBVIEW_COMPOSITING=1` keeps WebKit's defaults.
///
/// Without compositing, a WebDriver screenshot waits for the next repaint:
/// the e2e client makes one (`tests/e2e/webdriver.mjs`, `screenshot`). (On
/// 27 Nov it was briefly opt-in again for a failed e2e story; that was a race
/// in the test, which failed the same way with compositing.)
fn lighter_webview(app: &tauri::App) {
    #[cfg(target_os = "linux")]
    {
        use webkit2gtk::{
            CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt,
        };
        if compositing_requested() {
            return;
        }
        for window in app.webview_windows().values() {
            let applied = window.with_webview(|webview| {
                let webview = webview.inner();
                if let Some(settings) = webview.settings() {
                    settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
                }
                // One local page: no browser-sized memory caches.
                if let Some(context) = webview.context() {
                    context.set_cache_model(CacheModel::DocumentViewer);
                }
            });
            if let Err(error) = applied {
                tracing::warn!(%error, "cannot configure the webview");
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

/// Keeps the log file writer alive (and flushed on exit).
struct LogGuard(#[allow(dead_code)] Option<tracing_appender::non_blocking::WorkerGuard>);

/// `AISLE_DATA_DIR` overrides the platform's app data directory (tests use a
/// temporary one each).
fn data_dir<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> Result<PathBuf, tauri::Error> {
    match std::env::var_os("AISLE_DATA_DIR") {
        Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir)),
        _ => app.path().app_data_dir(),
    }
}

/// Logs to stderr and to `aisle.log` in the data directory (`RUST_LOG`
/// filters both; default `info`).
fn init_logging(data_dir: &std::path::Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let file = tracing_appender::rolling::never(data_dir, "aisle.log");
    let (writer, guard) = tracing_appender::non_blocking(file);
    let result = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter()),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter()),
        )
        .try_init();
    result.ok().map(|()| guard)
}
