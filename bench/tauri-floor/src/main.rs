//! The Tauri floor (see Cargo.toml): a window showing one static page, nothing else. It runs
//! with every WebKit setting Duet makes (accelerated compositing and JavaScript's JIT off, and
//! the web context's memory-pressure settings: src-tauri/src/webview.rs, compiled in here as it
//! is), so that comparing the two measures Duet's own cost, not a setting.

#[path = "../../../src-tauri/src/webview.rs"]
// The floor starts no other program, so it never needs `for_other_programs`.
#[allow(dead_code)]
mod webview;

fn main() {
    webview::before_start();
    if let Err(error) = tauri::Builder::default().run(tauri::generate_context!()) {
        eprintln!("tauri-floor: {error}");
        std::process::exit(1);
    }
}
