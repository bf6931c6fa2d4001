#!/usr/bin/env bash
# Installs what building, running and testing Duet needs on Debian 12 / Ubuntu 22.04 or newer.
# Idempotent: packages already installed are left alone, and `apt-get update` runs only when
# something is missing. Rust is not installed here (see the message at the end if it is
# missing): toolchains are the user's choice.
#
#   scripts/install-deps.sh          install what is missing
#   scripts/install-deps.sh --list   print the Debian packages it installs, one per line, and
#                                    the tools it accepts from elsewhere as `tool:NAME`
#                                    (scripts/check-tools.sh reads this)
set -euo pipefail

say() { printf 'install-deps: %s\n' "$*"; }

packages=(
  # The scripts' and tests' own tools (tr, mktemp, timeout…; setpriv; gzip, which also unpacks
  # the release build's code order for src-tauri/build.rs): on every Debian already, listed so
  # that nothing they require is left to chance (scripts/check-tools.sh).
  coreutils util-linux gzip
  # Building the Rust workspace and the Tauri shell.
  build-essential pkg-config libssl-dev
  libwebkit2gtk-4.1-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
  # Running and testing the desktop app headless (scripts/e2e-smoke.sh, WebDriver tests):
  # Xvfb, xwininfo (x11-utils), xwd for screenshots (x11-apps), ImageMagick.
  xvfb x11-utils x11-apps webkit2gtk-driver imagemagick
  # Emoji avatars and reactions: WebKitGTK draws empty boxes without a colour emoji font.
  fonts-noto-color-emoji
  # Calls (duet-call): Opus and VP8 from the system's libopus and libvpx; the microphone and
  # speaker through ALSA (cpal); libclang for the V4L2 camera bindings (bindgen).
  libopus-dev libvpx-dev libasound2-dev libclang-dev
  # Screen sharing on Wayland: the desktop portal's PipeWire stream (libpipewire, through
  # bindgen). Its test (crates/duet-cli/tests/devices.rs) runs the portal (xdg-desktop-portal)
  # over a private PipeWire with WirePlumber (pw-dump from pipewire-bin).
  libpipewire-0.3-dev
  pipewire pipewire-bin wireplumber xdg-desktop-portal
  # Calls through the real device path in tests: a private PulseAudio with virtual devices,
  # reached through ALSA's default device (the pulse plugin), fed and recorded with
  # paplay/parec (pulseaudio-utils).
  pulseaudio pulseaudio-utils libasound2-plugins
  # Network tests across hosts (crates/duet-cli/tests/netns.rs): namespaces, home routers
  # (nftables) and their forwarding switch (sysctl).
  iproute2 nftables procps
  # The app's end-to-end test (scripts/e2e-app.sh): a private session bus (dbus), gdbus to read
  # the tray item (libglib2.0-bin), a notification service (notification-daemon).
  dbus libglib2.0-bin notification-daemon
  # The data key kept in a desktop keyring (crates/duet-store/src/vault.rs): secret-tool
  # (libsecret-tools), and a Secret Service for the tests (gnome-keyring, headless).
  libsecret-tools gnome-keyring
)

# Tools taken from wherever they are when present (a Node from nvm or NodeSource, Rust from
# rustup); Debian's packages are the fallback for Node.
node_packages=(nodejs npm)
user_tools=(node npm cargo tauri-driver)

if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${packages[@]}" "${node_packages[@]}"
  printf 'tool:%s\n' "${user_tools[@]}"
  exit 0
fi

# The UI is built with Node and npm; a Node already on PATH (nvm, NodeSource) is kept.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  say "node $(node --version) and npm $(npm --version) found; not installing Debian's"
else
  packages+=("${node_packages[@]}")
fi

if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  say "this script needs a Debian or Ubuntu system (dpkg and apt-get); install the equivalents of: ${packages[*]}" >&2
  exit 1
fi

missing=()
for package in "${packages[@]}"; do
  if dpkg -s "$package" 2>/dev/null | grep -q '^Status: install ok installed'; then
    say "$package: already installed"
  else
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "not root and no sudo: run as root to install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  say "installing: ${missing[*]}"
  say "running: ${sudo[*]} apt-get update"
  "${sudo[@]}" apt-get update
  say "running: ${sudo[*]} apt-get install -y --no-install-recommends ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
  say "all system packages are present"
fi

# Node: Vite 7 needs 20.19 or newer.
node_version="$(node --version 2>/dev/null || true)"
if [ -n "$node_version" ]; then
  IFS=. read -r major minor _ <<<"${node_version#v}"
  if ((major < 20 || (major == 20 && minor < 19))); then
    say "warning: node $node_version is older than 20.19, which the UI's Vite 7 needs; install a newer Node (e.g. from NodeSource or nvm)" >&2
  fi
fi

# Rust.
if command -v cargo >/dev/null 2>&1; then
  say "$(cargo --version) found"
  if ! command -v rustup >/dev/null 2>&1; then
    say "note: rustup not found; cargo fmt and cargo clippy must come with your Rust install"
  fi
else
  say "cargo is missing: install Rust 1.80 or newer with rustup (https://rustup.rs), then run this script again" >&2
  exit 1
fi

# tauri-driver, the WebDriver bridge to WebKitWebDriver (scripts/e2e-app.sh).
if command -v tauri-driver >/dev/null 2>&1 || [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver" ]; then
  say "tauri-driver found"
else
  say "installing tauri-driver (cargo install tauri-driver --version ^2 --locked, about a minute)"
  cargo install tauri-driver --version '^2' --locked --quiet
fi

say "done"
