//! Reads the Tauri configuration from the repository root (`docs/platform.md`), so plain
//! `cargo build` works and `ui/dist`, the icons and the capabilities resolve the same way for
//! everyone.

fn main() {
    if let Err(error) = tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json")) {
        panic!("tauri-build failed: {error:#}");
    }
}
