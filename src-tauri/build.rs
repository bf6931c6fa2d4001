//! Reads the Tauri configuration from the repository root (`docs/platform.md`), so plain
//! `cargo build` works and `ui/dist`, the icons and the capabilities resolve the same way for
//! everyone; and gives the release link the order of the code a launch uses (`hot-code.txt.gz`,
//! below).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
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
/// (written by `scripts/hot-code.sh` from traced runs), and a linker script made of it puts
/// them first, side by side, in an output section of their own ahead of `.text`; the rest
/// follows in the linker's own order. A function the list names and the binary no longer has
/// is skipped, one the list lacks goes with the rest: a stale list costs memory, never
/// correctness.
///
/// The list names functions by their v0 symbol names (`.cargo/config.toml`) with the parts a
/// dependency update changes written as `*` (`hot_code_keys` in `scripts/lib/common.sh` says
/// which), so it survives updates, where exact names (lld's `--symbol-ordering-file`) were all
/// renamed by one. Each line becomes one input section pattern (every function has a section
/// of its own, named after it).
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
        match hot_code_layout(Path::new(&var("OUT_DIR"))) {
            Ok((script, order)) => {
                println!("cargo:rustc-link-arg-bins=-Wl,--script={}", script.display());
                println!("cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}", order.display());
                println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
            }
            Err(why) => println!("cargo:warning=the release binary keeps the linker's own layout: {why}"),
        }
    }
    if glibc_has_relr() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// The layout of the functions `hot-code.txt.gz` names, written into `out`: the linker script
/// that puts them first, and a symbol order for the names without a pattern (C and assembly
/// code; an assembly file's functions share one section, which only a symbol can place: lld
/// puts it first in `.text`, right after them). The list is read with the system's gzip.
fn hot_code_layout(out: &Path) -> Result<(PathBuf, PathBuf), String> {
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
    let list = String::from_utf8(unpacked.stdout).map_err(|_| "hot-code.txt.gz is not text".to_owned())?;
    let names: Vec<&str> = list.lines().map(str::trim).filter(|name| is_pattern(name)).collect();
    let mut exact = String::new();
    for name in names.iter().filter(|name| !name.contains('*')) {
        exact.push_str(name);
        exact.push('\n');
    }
    let write = |file: &str, text: String| {
        let path = out.join(file);
        fs::write(&path, text)
            .map(|()| path.clone())
            .map_err(|error| format!("{} could not be written ({error})", path.display()))
    };
    Ok((write("hot-code.ld", linker_script(&names))?, write("hot-code.txt", exact)?))
}

/// Whether a line of the list is a symbol name or a pattern of one that a linker script can
/// hold (letters, digits, `_`, `.`, `$`, and the list's `*`); any other line is left out.
fn is_pattern(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.$*".contains(&b))
}

/// An output section inserted before `.text` (the linker's default layout stays in force for
/// everything else) holding, in the list's order, each function's section: `.text.<name>`, or
/// `.text.unlikely.<name>` for a function marked cold (a slow path that a launch still takes).
fn linker_script(names: &[&str]) -> String {
    let mut script = String::from(
        "/* The functions a launch uses (src-tauri/hot-code.txt.gz), first. */\nSECTIONS {\n  .text.hot : {\n",
    );
    for name in names {
        for prefix in ["    *(.text.", " .text.unlikely."] {
            script.push_str(prefix);
            script.push_str(name);
        }
        script.push_str(")\n");
    }
    script.push_str("  }\n} INSERT BEFORE .text;\n");
    script
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
