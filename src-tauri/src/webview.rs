//! WebKitGTK settings that keep the window light (Linux).
//!
//! Measured with `scripts/bench-app.sh` (10,000-message conversation open, idle, Xvfb; figures
//! in docs/desktop-app.md): accelerated compositing draws the page through GL, which without a
//! GPU is Mesa's llvmpipe, and costs ~85 MB in the web process of a chat window that animates
//! nothing. It is off unless the environment already says otherwise
//! (`WEBKIT_DISABLE_COMPOSITING_MODE=0` brings it back). The web context's "document viewer"
//! cache model was tried too and changed nothing measurable, so it is not set.

/// Runs first thing in `main`, before GTK and WebKit start: the web process inherits the
/// environment.
pub fn before_start() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        // Nothing else runs yet, so nothing reads the environment while it changes.
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
}
