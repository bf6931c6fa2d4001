//! The built `duet-app` binary, as a person starts it. (These tests also make `cargo test
//! --workspace` build the app's binary with the same features as every test, so `make test`
//! runs its end-to-end scripts on that binary instead of building the dependencies again.)

use std::process::Command;

#[test]
fn without_a_display_the_app_says_so_in_words() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_duet-app"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("DUET_DATA_DIR", data.path())
        .output()
        .expect("run duet-app");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("needs a desktop session") && said.contains("`duet` command"), "{said}");
    assert!(!said.contains("panicked"), "{said}");
}
