//! Reads the Tauri configuration from the repository root (`docs/platform.md`), so plain
//! `cargo build` works and `ui/dist`, the icons and the capabilities resolve the same way for
//! everyone; and gives the release link the order of the code a launch uses (`hot-code.txt.gz`,
//! below).

use std::env;
use std::fs;
use std::path::Path;
use std::process::Command;

fn main() {
    if let Err(error) = tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json")) {
        panic!("tauri-build failed: {error:#}");
    }
    link_release();
}

/// The release binary's layout (docs/desktop-app.md, "The code a launch uses").
///
/// The kernel maps a program's code into memory by the large folio, not by the page, so what
/// the running app keeps mapped follows how far apart the functions it uses are more than how
/// many there are. `hot-code.txt.gz` lists the functions a launch with a conversation open uses
/// (written by `scripts/hot-code.sh` from traced runs); the linker puts them first, side by
/// side, and the rest after. A name the list has and the binary no longer has is skipped, a
/// function the list lacks goes with the rest: a stale list costs memory, never correctness.
///
/// Also packs the relative relocations (`DT_RELR`): the dynamic loader reads all of them at
/// start, and packed they are ~20 kB instead of ~0.9 MB mapped. glibc reads them from 2.36 on,
/// so they are packed only when the glibc this is built against has that.
///
/// Only for the release profile on x86_64 Linux, whose default linker since Rust 1.90 is lld
/// (the workspace needs 1.91); not when a linker of one's own is configured, which may not take
/// these options. `DUET_HOT_CODE=0` leaves the layout to the linker.
fn link_release() {
    println!("cargo:rerun-if-changed=hot-code.txt.gz");
    println!("cargo:rerun-if-env-changed=DUET_HOT_CODE");
    let var = |name: &str| env::var(name).unwrap_or_default();
    let own_linker = var("CARGO_ENCODED_RUSTFLAGS").contains("linker")
        || env::var_os("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER").is_some();
    if var("PROFILE") != "release" || var("TARGET") != "x86_64-unknown-linux-gnu" || own_linker {
        return;
    }
    if var("DUET_HOT_CODE") != "0" {
        match unpack_hot_code(Path::new(&var("OUT_DIR"))) {
            Ok(list) => {
                println!("cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}", list.display());
                println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
            }
            Err(why) => println!("cargo:warning=the release binary keeps the linker's own layout: {why}"),
        }
    }
    if glibc_has_relr() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// `hot-code.txt.gz` unpacked into `out` (the linker reads plain text), by the system's gzip.
fn unpack_hot_code(out: &Path) -> Result<std::path::PathBuf, String> {
    let unpacked = Command::new("gzip")
        .args(["-dc", "hot-code.txt.gz"])
        .output()
        .map_err(|error| format!("gzip could not run ({error})"))?;
    if !unpacked.status.success() {
        return Err(format!(
            "gzip could not read hot-code.txt.gz: {}",
            String::from_utf8_lossy(&unpacked.stderr).trim()
        ));
    }
    let list = out.join("hot-code.txt");
    fs::write(&list, unpacked.stdout).map_err(|error| format!("{} could not be written ({error})", list.display()))?;
    Ok(list)
}

/// Whether the C library linked against reads packed relocations (glibc 2.36 and later).
fn glibc_has_relr() -> bool {
    let Ok(output) = Command::new("getconf").arg("GNU_LIBC_VERSION").output() else {
        return false;
    };
    // "glibc 2.36"
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text.trim().strip_prefix("glibc ").unwrap_or_default();
    let mut parts = version.split('.').map(|part| part.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (2, 36)
}
