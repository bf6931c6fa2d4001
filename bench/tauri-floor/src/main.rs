//! The Tauri floor (see Cargo.toml): a window showing one static page, nothing else. It runs
//! with the one WebKit setting Duet makes for itself (accelerated compositing off,
//! src-tauri/src/webview.rs), so that comparing the two measures Duet's own cost, not a
//! setting.

fn main() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        // Nothing else runs yet, so nothing reads the environment while it changes.
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    if let Err(error) = tauri::Builder::default().run(tauri::generate_context!()) {
        eprintln!("tauri-floor: {error}");
        std::process::exit(1);
    }
}
