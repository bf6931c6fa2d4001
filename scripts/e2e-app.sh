#!/usr/bin/env bash
# End to end, the real desktop app: two `duet-app` instances (Alice and Bob, separate data
# directories, listening on loopback only, no mDNS) under a private Xvfb, each driven through
# its own tauri-driver (WebDriver → WebKitWebDriver). The scenario is ui/e2e/two-instances.mjs:
# both onboard, Alice invites, Bob joins with the ticket, a message goes each way, Bob reacts,
# Alice edits, the read tick appears; then an image, calls and a voice message. Screenshots of
# both windows land in target/e2e/. Everything it starts is stopped on exit, whatever happens.
#
# Calls and voice messages run on the real device path, with no test tone: each app has a
# PulseAudio of its own (as crates/duet-cli/tests/common/sound.rs sets one up) whose default
# speaker is a null sink the scenario records (`parec`, ui/e2e/sound.mjs) and whose default
# microphone plays a tone this script feeds it (Alice 520 Hz, Bob 740 Hz: neither is the
# 440 Hz test tone, so hearing them proves the microphone was used). The app reaches them the
# way a desktop app does: cpal → ALSA `default` → the pulse plugin (libasound2-plugins).
#
# A failed scenario is told in full (its steps, the apps' logs, the notifications, screenshots
# failure-N-*.png) and then run once more with two fresh apps (E2E_ATTEMPTS, 2 by default),
# as Playwright does on CI: a desktop under Xvfb has timing of its own (which window is on top,
# when focus moves) and one unlucky run must not hide every other result. A pass on a later
# attempt still prints why the first one failed.
#
#   scripts/e2e-app.sh              build the UI and the app, then test
#   scripts/e2e-app.sh --no-build   test the binary and ui/dist already built
#   DUET_APP=path/to/duet-app scripts/e2e-app.sh --no-build
#
# Needs: xvfb, x11-utils, dbus-daemon, notification-daemon, webkit2gtk-driver (WebKitWebDriver),
# pulseaudio, pulseaudio-utils, libasound2-plugins, node (scripts/install-deps.sh installs
# them); installs tauri-driver
# (`cargo install tauri-driver --version ^2 --locked`, ~20 s) when it is missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
app="${DUET_APP:-$root/target/debug/duet-app}"
out_dir="$root/target/e2e"
driver_timeout=30    # seconds for a tauri-driver to listen
scenario_timeout=300 # seconds for the whole scenario
attempts="${E2E_ATTEMPTS:-2}"
sound_timeout=10    # seconds for a sound server to answer
tone_alice=520      # Hz, what Alice's microphone hears
tone_bob=740        # Hz, what Bob's

script_name=e2e-app
# shellcheck source=lib/common.sh
. "$root/scripts/lib/common.sh"
parse_build_flag "$@"

notification_daemon=/usr/lib/notification-daemon/notification-daemon
require_tools Xvfb xwininfo WebKitWebDriver node dbus-daemon dbus-monitor gdbus "$notification_daemon"
require_tools pulseaudio pactl pacat parec
require_tools gnome-keyring-daemon secret-tool
ensure_tauri_driver

build_app

work="$(mktemp -d -t duet-e2e-app.XXXXXX)"
pids=()
cleanup() {
  local status=$?
  set +e # a process that already died must not stop the clean-up
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop "${pids[i]}"; done
  if ((status != 0)); then
    show_logs "$work"
  fi
  rm -rf "$work"
  exit "$status"
}
show_logs() { # dir: the last lines of every log in it, the scenario's own account last (so the
  # reason is what a truncated CI log still shows)
  local dir=$1 log
  for log in "$dir"/*.log; do
    [ -s "$log" ] || continue
    [ "$log" = "$dir/scenario.log" ] && continue
    printf -- '--- %s (last 40 lines)\n' "$log" >&2
    if [ "$log" = "$dir/notifications.log" ]; then
      # dbus-monitor writes a notification over a dozen lines: one line each here.
      awk '/^method call/ { n = 0; next } /^ +string/ { n++; if (n == 3) who = $0; if (n == 4) print "Notify:" who " —" $0 }' \
        "$log" | sed -E 's/ +string / /g' | tail -n 40 >&2
    else
      tail -n 40 "$log" >&2
    fi
  done
  if [ -s "$dir/scenario.log" ]; then
    printf -- '--- the scenario (last 30 lines)\n' >&2
    tail -n 30 "$dir/scenario.log" >&2
  fi
}
stop() { # pid: TERM to its process group (the driver's WebKitWebDriver and app too), then KILL
  [ -n "$1" ] || return 0
  kill -TERM -- "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$1" 2>/dev/null
  kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM


say "starting Xvfb"
start_xvfb
say "Xvfb is on display $display"

# A session bus of our own: the apps' tray items and notifications go there, not to the
# desktop of whoever runs the test. A notification daemon answers `Notify`; each attempt
# records the calls with a dbus-monitor of its own.
setsid dbus-daemon --session --nofork --nopidfile --print-address=3 3>"$work/bus" >"$work/dbus.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  [ -s "$work/bus" ] && break
  sleep 0.1
done
[ -s "$work/bus" ] || fail "dbus-daemon did not start within 10 s"
export DBUS_SESSION_BUS_ADDRESS="$(head -n 1 "$work/bus")"
DISPLAY="$display" setsid "$notification_daemon" >"$work/notification-daemon.log" 2>&1 &
pids+=($!)
deadline=$((SECONDS + 10))
until gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
  --method org.freedesktop.DBus.NameHasOwner org.freedesktop.Notifications 2>/dev/null | grep -q true; do
  ((SECONDS < deadline)) || fail "the notification daemon did not take its bus name within 10 s"
  sleep 0.1
done

# The desktop's keyring, unlocked as at login: Bob's app keeps its data key there, as on a
# desktop with GNOME Keyring, while Alice's is given a passphrase (DUET_PASSPHRASE), as where
# there is no keyring. Its files stay in $work.
mkdir -p "$work/keyring"
printf login | XDG_DATA_HOME="$work/keyring" HOME="$work/keyring" \
  gnome-keyring-daemon --unlock --components=secrets --daemonize >"$work/keyring.log" 2>&1 ||
  fail "gnome-keyring-daemon did not start"

# What a process needs in its environment to use the sound server in `dir` (the client library
# looks for its config under HOME), one VAR=value a line.
sound_env() { # dir
  printf 'XDG_RUNTIME_DIR=%s\nPULSE_SERVER=unix:%s/native\nHOME=%s\n' "$1" "$1" "$1"
}

# A PulseAudio of one app's own: a null sink `speaker` (default output) and a null sink
# `micfeed` remapped into the source `mic` (default input), then a sine tone of `hz` played
# into `micfeed` for as long as the attempt runs (the server takes it as fast as it plays it,
# which paces the generator through the pipe).
start_sound() { # dir name hz → sets sound_dir
  local dir=$1 name=$2 hz=$3 sound="$1/$2-sound" rate=48000
  mkdir -p "$sound"
  printf '%s\n' \
    "load-module module-native-protocol-unix auth-anonymous=1 socket=$sound/native" \
    "load-module module-null-sink sink_name=speaker rate=$rate channels=1 sink_properties=device.description=Speaker" \
    "load-module module-null-sink sink_name=micfeed rate=$rate channels=1 sink_properties=device.description=MicFeed" \
    "load-module module-remap-source source_name=mic master=micfeed.monitor channels=1 source_properties=device.description=Microphone" \
    "set-default-sink speaker" \
    "set-default-source mic" >"$sound/default.pa"
  local -a env
  mapfile -t env < <(sound_env "$sound")
  # No session bus: a PulseAudio on it claims org.pulseaudio.Server, and the second app's
  # would find the name taken and exit as "already running". No shared memory: PulseAudio
  # 16.1 aborted one run in five on its memfd bug ("Cannot send block reference with
  # non-registered memfd ID", pulseaudio#824) with the app, the webview and parec all
  # connected; copying a few mono streams over the socket costs nothing here.
  env -u DBUS_SESSION_BUS_ADDRESS "${env[@]}" setsid pulseaudio --daemonize=no --system=false --exit-idle-time=-1 --disallow-exit -n \
    --disable-shm=yes -F "$sound/default.pa" --log-target=stderr --log-level=warning >"$dir/$name-pulseaudio.log" 2>&1 &
  pids+=($!)
  local deadline=$((SECONDS + sound_timeout))
  until env "${env[@]}" pactl info >/dev/null 2>&1; do
    kill -0 "${pids[-1]}" 2>/dev/null || fail "the sound server for $name exited"
    ((SECONDS < deadline)) || fail "the sound server for $name did not answer within ${sound_timeout} s"
    sleep 0.1
  done
  env "${env[@]}" setsid bash -c 'node "$0" "$1" "$2" | pacat --playback --device=micfeed --format=s16le --channels=1 --rate="$2" --latency-msec=20' \
    "$root/ui/e2e/tone.mjs" "$hz" "$rate" >"$dir/$name-tone.log" 2>&1 &
  pids+=($!)
  sound_dir=$sound
}

# One tauri-driver per instance, each in its own process group (so `stop` takes its
# WebKitWebDriver and the app with it), each with its own data directory and sound server in
# its environment.
start_driver() { # dir name sound keeping (passphrase|keyring) → sets driver_port
  local dir=$1 name=$2 sound=$3 keeping=$4 port native
  port="$(free_port)"
  native="$(free_port)"
  mkdir -p "$dir/$name"
  local -a env
  mapfile -t env < <(sound_env "$sound")
  [ "$keeping" = passphrase ] && env+=("DUET_PASSPHRASE=duet test passphrase")
  env "${env[@]}" DISPLAY="$display" DUET_DATA_DIR="$dir/$name" DUET_LISTEN=/ip4/127.0.0.1/tcp/0 DUET_NO_MDNS=1 \
    DUET_LOG="${DUET_LOG:-warn,duet_node=debug,duet_call=debug}" \
    setsid "$tauri_driver" --port "$port" --native-port "$native" >"$dir/$name.log" 2>&1 &
  pids+=($!)
  local deadline=$((SECONDS + driver_timeout))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    kill -0 "${pids[-1]}" 2>/dev/null || fail "tauri-driver for $name exited"
    ((SECONDS < deadline)) || fail "tauri-driver for $name did not listen within ${driver_timeout} s"
    sleep 0.2
  done
  driver_port=$port
}

# One run of the scenario with two fresh apps; its processes are stopped before it returns.
# Succeeds when the scenario passed and neither app complained about the desktop.
attempt() { # n
  local n=$1 dir="$work/attempt-$n" first=${#pids[@]} status=0
  mkdir -p "$dir"
  setsid dbus-monitor "type='method_call',interface='org.freedesktop.Notifications',member='Notify'" \
    >"$dir/notifications.log" 2>&1 &
  pids+=($!)
  start_sound "$dir" alice "$tone_alice"
  local sound_a=$sound_dir
  start_sound "$dir" bob "$tone_bob"
  local sound_b=$sound_dir
  start_driver "$dir" alice "$sound_a" passphrase
  local port_a=$driver_port
  start_driver "$dir" bob "$sound_b" keyring
  local port_b=$driver_port
  # Alice's new computer (an empty data folder, restored from her backup at the end of the
  # story), on her sound server: her first window is closed by then.
  start_driver "$dir" alice-new "$sound_a" passphrase
  local port_c=$driver_port
  say "attempt $n: tauri-driver for alice on $port_a, for bob on $port_b"
  DISPLAY="$display" E2E_APP="$app" E2E_PORT_A="$port_a" E2E_PORT_B="$port_b" E2E_PORT_C="$port_c" E2E_DATA_A="$dir/alice" \
    E2E_SOUND_A="$sound_a" E2E_SOUND_B="$sound_b" E2E_TONE_A="$tone_alice" E2E_TONE_B="$tone_bob" \
    E2E_OUT="$out_dir" E2E_NOTIFY_LOG="$dir/notifications.log" \
    timeout "$scenario_timeout" node "$root/ui/e2e/two-instances.mjs" 2>&1 | tee "$dir/scenario.log" || status=$?
  # Each app's data key is kept as its environment says: Alice's by her passphrase, Bob's by
  # the keyring.
  if ((status == 0)); then
    for who in alice:passphrase bob:keyring; do
      if ! grep -q "\"wrapping\": \"${who#*:}\"" "$dir/${who%%:*}/vault.json" 2>/dev/null; then
        echo "e2e: FAILED: ${who%%:*}'s data key is not kept by the ${who#*:}" >>"$dir/scenario.log"
        status=1
      fi
    done
  fi
  # The desktop parts fail quietly by design (a desktop without them still runs Duet); here
  # they have a bus and a daemon, so a complaint in the logs is a failure.
  if ((status == 0)) && grep -H -E "no desktop notification|no tray icon" "$dir"/alice.log "$dir"/bob.log >&2; then
    echo "e2e: FAILED: an app could not reach the tray or the notification service" >>"$dir/scenario.log"
    status=1
  fi
  for ((i = ${#pids[@]} - 1; i >= first; i--)); do stop "${pids[i]}"; done
  pids=("${pids[@]:0:first}")
  # The notifications the desktop was asked to show, beside the screenshots.
  cp "$dir/notifications.log" "$out_dir/notifications.log"
  if ((status != 0)); then
    for shot in "$out_dir"/failure-{alice,bob}.{png,html}; do
      [ -f "$shot" ] && mv "$shot" "${shot/failure-/failure-$n-}"
    done
    show_logs "$dir"
    reasons+=("attempt $n: $(grep -h 'FAILED' "$dir/scenario.log" | tail -n 1)")
  fi
  return "$status"
}

mkdir -p "$out_dir"
rm -f "$out_dir"/*.png "$out_dir"/failure-* "$out_dir"/notifications.log
reasons=()
for ((n = 1; n <= attempts; n++)); do
  if attempt "$n"; then
    if ((n > 1)); then
      say "passed on attempt $n; before that:"
      printf '  %s\n' "${reasons[@]}"
    fi
    say "passed; screenshots: $out_dir/alice.png $out_dir/bob.png"
    exit 0
  fi
  ((n < attempts)) && say "attempt $n failed; once more with two fresh apps"
done
printf '  %s\n' "${reasons[@]}" >&2
fail "the scenario failed $attempts times (screenshots in $out_dir)"
