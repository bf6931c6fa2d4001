# One task runner for everyone: `make run`, `make test`, `make lint`, `make bench`.
# Every target installs what it needs first (scripts/install-deps.sh is idempotent and quick
# when everything is present).

SHELL := /bin/bash
CARGO ?= cargo
NPM ?= npm

.PHONY: run test lint bench bundle deps ui ui-deps app app-tested test-rust test-ui test-e2e test-app-e2e bench-app fuzz clean

## Launch Duet (builds the UI and the app first).
run: deps ui
	$(CARGO) run -p duet-app

## The whole test suite: Rust (unit, property, store, crash), the UI's Vitest, and the real app under Xvfb.
test: deps test-rust test-ui test-e2e

## fmt, clippy with warnings as errors, svelte-check, the generated bindings, no references
## outside the repository, and the dependencies (cargo-deny against deny.toml, npm audit).
lint: deps ui-deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings
	cd ui && $(NPM) run check
	scripts/check-bindings.sh
	scripts/check-self-contained.sh
	scripts/deny.sh

## Benchmarks (release build); figures are printed.
bench: deps
	$(CARGO) bench -p duet-log --features testkit --bench events
	$(CARGO) bench -p duet-store --bench store
	$(CARGO) bench -p duet-tests --bench sync
	$(CARGO) bench -p duet-call --bench call
	$(CARGO) bench -p duet-tests --bench calls
	$(CARGO) bench -p duet-tests --bench blobs

## A .deb with the Tauri bundler (BUNDLES="deb appimage" for an AppImage too, which downloads
## its tools from the internet); see docs/packaging.md. Not run in CI.
BUNDLES ?= deb
bundle: deps ui
	$(CARGO) build -p duet-app --release
	strip --strip-debug target/release/duet-app
	scripts/deb-depends.sh target/release/duet-app > target/deb-depends.json
	@command -v cargo-tauri >/dev/null || $(CARGO) install tauri-cli --version '^2' --locked
	ln -sfn ../tauri.conf.json src-tauri/tauri.conf.json
	cd src-tauri && { $(CARGO) tauri bundle --bundles $(BUNDLES) --config tauri.bundle.json --config ../target/deb-depends.json; status=$$?; rm -f tauri.conf.json; exit $$status; }

deps:
	@scripts/install-deps.sh

ui-deps:
	@cd ui && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || $(NPM) ci --no-audit --no-fund; }

ui: ui-deps
	cd ui && $(NPM) run build

app: ui
	$(CARGO) build -p duet-app

# One build for the tests and the app the end-to-end scripts run: `cargo test --workspace
# --all-features` also builds target/debug/duet-app (src-tauri has integration tests), with
# the same features as everything else. `cargo build -p duet-app` would resolve the
# dependencies' features differently and compile tokio, libp2p, webrtc and GTK a second time.
WORKSPACE_TESTS = $(CARGO) test --workspace --all-features

test-rust: ui
	$(WORKSPACE_TESTS)

# The app binary of the test build (a no-op after test-rust).
app-tested: ui
	$(WORKSPACE_TESTS) --no-run

test-ui: ui-deps
	cd ui && $(NPM) test

## The real app under Xvfb: one window paints (smoke), then two instances pair and chat
## through WebDriver (tauri-driver + WebKitWebDriver; screenshots in target/e2e/), then search
## finds and opens a message in a 10,000-message history.
test-e2e: app-tested
	scripts/e2e-smoke.sh --no-build
	scripts/e2e-app.sh --no-build
	scripts/e2e-search.sh --no-build

## Two real app instances pair and chat through WebDriver (tauri-driver + WebKitWebDriver).
test-app-e2e: app-tested
	scripts/e2e-app.sh --no-build

## Cold start and idle memory of the app next to the Tauri floor (release build).
bench-app: deps ui
	scripts/bench-app.sh

## Every fuzz target for a short while (nightly; FUZZ_SECONDS=30 by default).
fuzz:
	scripts/fuzz.sh $(or $(FUZZ_SECONDS),30)

clean:
	$(CARGO) clean
	rm -rf ui/dist ui/node_modules
