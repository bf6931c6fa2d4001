//! The Tauri floor (see Cargo.toml): a window showing one static page, nothing else. It runs
//! with the environment settings Duet makes for WebKit (accelerated compositing and
//! JavaScript's JIT off, src-tauri/src/webview.rs), so that comparing the two measures Duet's
//! own cost, not a setting. Duet's memory-pressure settings are not repeated here: they act only
//! on a web process past 35 MB by WebKit's measure, and the floor's holds ~25 MB of private
//! memory in all.

fn main() {
    #[cfg(target_os = "linux")]
    for (name, value) in [("WEBKIT_DISABLE_COMPOSITING_MODE", "1"), ("JSC_useJIT", "0")] {
        if std::env::var_os(name).is_none() {
            // Nothing else runs yet, so nothing reads the environment while it changes.
            std::env::set_var(name, value);
        }
    }
    if let Err(error) = tauri::Builder::default().run(tauri::generate_context!()) {
        eprintln!("tauri-floor: {error}");
        std::process::exit(1);
    }
}
