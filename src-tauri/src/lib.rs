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
    reexec_with_light_environment();
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

/// GTK, WebKitGTK, JavaScriptCore and glibc read some choices only from the
/// environment, when they start. The lighter app (the default, see
/// [`lighter_webview`]) asks for:
/// - Skia painting on the CPU (`WEBKIT_SKIA_ENABLE_CPU_RENDERING`) and no
///   DMA-BUF renderer between the web and UI processes
///   (`WEBKIT_DISABLE_DMABUF_RENDERER`): without compositing GL buys this flat
///   UI nothing, and its buffers cost both processes 5–8 MB together under
///   Mesa's software GL;
/// - no GL at all in the UI process, which then never loads the GL driver
///   (under Mesa: `swrast_dri` and its libLLVM, ≈ 20 MB of relocated,
///   private pages). GTK probes GLX for its visuals unless `GDK_GL=disable`,
///   and WebKit opens an EGL display in the UI process only to find the DRM
///   render node it hands the web process, unless
///   `WEBKIT_WEB_RENDER_DEVICE_FILE` names it: the app names the first
///   render node there is ([`render_node`]). The web process keeps its own
///   EGL display (WebKitGTK 2.50 aborts without one);
/// - JavaScript without the JIT (`JSC_useJIT=0`): the page is one small
///   bundle whose work is rendering lists; the interpreter keeps a keystroke
///   to its results well inside its 50 ms target while the web process saves
///   its JIT's code and threads (≈ 8 MB);
/// - two malloc arenas and a fixed mmap threshold for the app's own heap, as
///   for its sidecar (`aisle_sync::sidecar::MALLOC_SETTINGS`: idle arenas
///   and glibc's rising threshold keep freed memory).
///
/// Each is measured by `cargo xtask bench app` (BENCHMARKS.md, "App, fifth
/// round"). The workspace forbids `unsafe`, so the environment cannot be
/// changed in-process (`set_var`); instead the app replaces itself once
/// (same pid, same arguments) with those variables set. A variable the user
/// set is left as it is; a failed exec starts the app as it is.
#[cfg(target_os = "linux")]
fn reexec_with_light_environment() {
    use std::os::unix::process::CommandExt;
    const DONE: &str = "AISLE_LIGHT_ENVIRONMENT";
    const RENDER_NODE: &str = "WEBKIT_WEB_RENDER_DEVICE_FILE";
    if compositing_requested() || std::env::var_os(DONE).is_some() {
        return;
    }
    let choices = [
        ("WEBKIT_SKIA_ENABLE_CPU_RENDERING", "1"),
        ("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
        ("GDK_GL", "disable"),
        ("JSC_useJIT", "0"),
    ]
    .into_iter()
    .chain(aisle_sync::sidecar::MALLOC_SETTINGS)
    .map(|(name, value)| (name, std::ffi::OsString::from(value)));
    let mut missing: Vec<_> = choices
        .filter(|(name, _)| std::env::var_os(name).is_none())
        .collect();
    // Looked up only when it is to be set.
    if std::env::var_os(RENDER_NODE).is_none() {
        missing.push((RENDER_NODE, render_node().into_os_string()));
    }
    if missing.is_empty() {
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
    command.args(args).env(DONE, "1").envs(missing);
    // Only returns if the exec failed.
    let error = command.exec();
    eprintln!("Aisle: starting with the platform's defaults ({error})");
}

/// The DRM render node named to WebKit (see
/// [`reexec_with_light_environment`]): the first `/dev/dri/renderD*`, as
/// WebKit would find on a one-GPU device. Where there is none (a VM, Xvfb)
/// WebKit would find none either, and the web process never opens the one
/// named: it needs it only for GBM buffers (the DMA-BUF renderer, WebGL),
/// which this UI does not use.
#[cfg(target_os = "linux")]
fn render_node() -> PathBuf {
    let first = std::fs::read_dir("/dev/dri").ok().and_then(|entries| {
        entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| {
                path.file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with("renderD"))
            })
            .min()
    });
    first.unwrap_or_else(|| PathBuf::from("/dev/dri/renderD128"))
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
