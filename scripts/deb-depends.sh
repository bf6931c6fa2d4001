#!/usr/bin/env bash
# The .deb's Depends for a built binary, as a Tauri config to merge (`make bundle` passes it
# to `cargo tauri bundle --config`):
#
#   scripts/deb-depends.sh target/release/duet-app > target/deb-depends.json
#
# The Tauri bundler makes the package depend on WebKitGTK and GTK only, but the binary links
# more shared libraries (Opus, libvpx, ALSA, PipeWire, D-Bus…): installed on a machine without
# one of them, it would not start. `dpkg-shlibdeps`, Debian's own tool, names the package and
# the least version of each library the binary links, on the machine that built it (a binary
# built on Debian 12 links libvpx.so.7, so it needs libvpx7; one built on Ubuntu 24.04 gets
# that release's names). The packages listed in tauri.conf.json (`bundle.linux.deb.depends`:
# what is loaded at run time or run as a tool, so no linker sees it) are kept, and the two the
# bundler adds itself are left to it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
binary="$(realpath "${1:?usage: scripts/deb-depends.sh BINARY}")"
command -v dpkg-shlibdeps >/dev/null || { echo "deb-depends: dpkg-shlibdeps is missing (apt-get install dpkg-dev)" >&2; exit 1; }

# dpkg-shlibdeps reads debian/control from the folder it runs in.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/debian"
printf 'Source: duet\n\nPackage: duet\nArchitecture: any\n' >"$work/debian/control"
shlibs="$(cd "$work" && dpkg-shlibdeps -O "$binary" 2>"$work/log")" || { cat "$work/log" >&2; exit 1; }
shlibs="${shlibs#shlibs:Depends=}"

SHLIBS="$shlibs" node -e '
const config = require(process.argv[1]);
const name = (dep) => dep.trim().split(/[\s(|]/)[0];
const fromBinary = process.env.SHLIBS.split(",").map((d) => d.trim()).filter(Boolean);
const byBundler = new Set(["libwebkit2gtk-4.1-0", "libgtk-3-0"]);
const linked = new Set(fromBinary.map(name));
const declared = config.bundle.linux.deb.depends.filter((d) => !linked.has(name(d)));
const depends = [...declared, ...fromBinary.filter((d) => !byBundler.has(name(d)))];
process.stdout.write(JSON.stringify({ bundle: { linux: { deb: { depends } } } }, null, 2) + "\n");
' "$root/tauri.conf.json"
