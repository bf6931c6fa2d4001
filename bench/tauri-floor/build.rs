//! Reads this floor's own Tauri configuration (one window, one static page).

fn main() {
    if let Err(error) = tauri_build::try_build(tauri_build::Attributes::new()) {
        panic!("tauri-build failed: {error:#}");
    }
}
