//! WebKitGTK settings that keep the window light (Linux).
//!
//! Measured with `scripts/bench-app.sh` (10,000-message conversation open, idle, Xvfb; figures
//! in docs/desktop-app.md):
//!
//! - **Accelerated compositing** draws the page through GL, which without a GPU is Mesa's
//!   llvmpipe, and costs ~85 MB in the web process of a chat window that animates nothing. Off.
//! - **JavaScript's JIT compilers** (`JSC_useJIT=0`): their code and profiling data cost
//!   ~13 MB in the web process (8 MB of it anonymous); Duet's page does little JavaScript
//!   (searching, sorting and crypto run in Rust), and its interpreter paints the 10,000-message
//!   conversation as fast (first messages painted 0.53–0.62 s with or without). Off.
//! - **JavaScript's collections sized for a chat window** (`JSC_largeHeapSize=1048576`,
//!   `JSC_aggressiveHeapThresholdInMB=1048576`): JavaScriptCore lets a page's heap take 32 MB
//!   before any allocation asks for a collection, and on a computer with 16 GB of RAM or more
//!   grows the heap fourfold between collections and spaces them out in time. Duet's page holds
//!   ~5 MB, so it never asked: its start-up garbage (~7 MB, most of it the message list's rows
//!   mounting) piled up until a timer collected it, and the heap's pages kept that peak for
//!   good. With collections every megabyte at first and the heap doubling between them, as on
//!   a smaller computer, the web process keeps ~1.6 MB less (111.1–111.2 → 109.4–109.7 MB,
//!   three launches each), for ~0.1 s more of its CPU while it starts.
//! - **Memory pressure** ([`pressure`]): WebKit hands caches and freed memory back only when a
//!   web process passes a share of its memory limit, which by default is the machine's RAM (up
//!   to 3 GB), so a chat window never did. Duet gives its web context a limit sized to a chat
//!   window, and a threshold low enough that its page is always past it: the web process keeps
//!   ~40 MB of its own memory where it kept ~51 without a release.
//!
//! Each of the environment settings is left alone when the environment already names it
//! (`WEBKIT_DISABLE_COMPOSITING_MODE=0`, `JSC_useJIT=1` bring them back), and what Duet set is
//! taken out again for a program it starts ([`for_other_programs`]: a link's browser may be
//! WebKit too). The web context's "document viewer" cache model was tried too and changed
//! nothing measurable, so it is not set.

/// The environment settings: each is set unless the environment already names it.
#[cfg(target_os = "linux")]
const SETTINGS: [(&str, &str); 4] = [
    ("WEBKIT_DISABLE_COMPOSITING_MODE", "1"),
    ("JSC_useJIT", "0"),
    // The least a heap grows before an allocation asks for a collection (JavaScriptCore's own
    // figure for a small heap; 32 MB by default for a page), in bytes.
    ("JSC_largeHeapSize", "1048576"),
    // The RAM, in MB, from which JavaScriptCore grows heaps "aggressively" (default 16 GB):
    // 1 TB, so never.
    ("JSC_aggressiveHeapThresholdInMB", "1048576"),
];

/// The settings this process set (not the ones it found), for [`for_other_programs`].
#[cfg(target_os = "linux")]
static SET_HERE: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();

/// Runs first thing in `main`, before GTK and WebKit start: the web process inherits the
/// environment, and the web context is made after this.
pub fn before_start() {
    #[cfg(target_os = "linux")]
    {
        SET_HERE.get_or_init(|| {
            let mut set = Vec::new();
            for (name, value) in SETTINGS {
                if std::env::var_os(name).is_none() {
                    // Nothing else runs yet, so nothing reads the environment while it changes.
                    std::env::set_var(name, value);
                    set.push(name);
                }
            }
            set
        });
        pressure::install();
    }
}

/// Takes Duet's WebKit settings out of the environment of another program it starts (the
/// browser a link opens in may well be WebKit too, and is not Duet's to slow down); a setting
/// that was in Duet's own environment when it started is passed on as it was.
pub fn for_other_programs(command: &mut std::process::Command) -> &mut std::process::Command {
    #[cfg(target_os = "linux")]
    for name in SET_HERE.get().into_iter().flatten() {
        command.env_remove(name);
    }
    command
}

/// The web context's memory-pressure settings.
///
/// `WebKitMemoryPressureSettings` is a construct-time property of the web context, and Tauri
/// (wry) creates the context without letting an app pass one. GObject sets every construct
/// property when an object is made, the ones nobody gave with their default (here, none), through
/// the class's `set_property`; [`install`] wraps that function so that when the web context is
/// given no settings it is given Duet's instead. Every other property, and a context made with
/// settings of its own, goes through untouched. If WebKit ever stops having the property, the
/// wrapper never matches and nothing changes.
///
/// The settings ([`LIMIT_MB`] and the shares of it): every [`POLL_SECONDS`] the web process
/// measures its own footprint (WebKit's measure, which reads lower than the process's private
/// memory); above the conservative share it releases what is not critical (caches, and freed
/// memory back to the system), above the strict share it also collects JavaScript's garbage and
/// drops compiled code.
///
/// The conservative share is 15 MB, below what Duet's page ever holds, so the release comes
/// after every poll. It was 35 MB, which the page passed only while it was heavier: once it got
/// lighter (i18next gone) it stayed under, released nothing, and kept 11 MB more than the same
/// page released (web process 126 MB PSS against 115, measured side by side); a threshold the
/// page hovers around makes its memory a matter of chance. A release every poll costs next to
/// nothing: an idle window's web process used 0.10 s of CPU a minute with it and 0.09 s without.
/// The strict share is kept for a page holding far more (many photos decoded), where a
/// collection every few seconds would cost more than the memory; a critical release on Duet's
/// page freed only 2 MB more. The process is never killed for its memory (kill threshold 0).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod pressure {
    use std::ffi::CStr;
    #[cfg(test)]
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;

    use gobject_sys::{GObject, GObjectClass, GParamSpec, GValue};
    use webkit2gtk_sys::WebKitMemoryPressureSettings;

    /// The web process's memory limit, in MB: the base the shares below are taken of.
    pub(super) const LIMIT_MB: u32 = 100;
    /// Above this share of the limit, non-critical memory is released.
    pub(super) const CONSERVATIVE: f64 = 0.15;
    /// Above this share, critical memory is released too (JavaScript's heap and code).
    pub(super) const STRICT: f64 = 0.95;
    /// How often the web process measures itself.
    pub(super) const POLL_SECONDS: f64 = 10.0;
    /// The construct property the settings go to.
    const PROPERTY: &[u8] = b"memory-pressure-settings";

    // WebKit refuses (with a critical warning, keeping its defaults) thresholds out of order
    // or out of range, and a poll interval that is not positive.
    const _: () = assert!(0.0 < CONSERVATIVE && CONSERVATIVE < STRICT && STRICT <= 1.0);
    const _: () = assert!(POLL_SECONDS > 0.0 && LIMIT_MB > 0);

    type SetProperty = unsafe extern "C" fn(*mut GObject, u32, *mut GValue, *mut GParamSpec);
    /// The web context class's own `set_property`, which the wrapper calls.
    static ORIGINAL: OnceLock<SetProperty> = OnceLock::new();

    /// Wraps the web context class's `set_property` (once; a second call changes nothing).
    pub(super) fn install() {
        // SAFETY: `g_type_class_ref` returns the web context's class structure, which starts
        // with a `GObjectClass` and lives for the rest of the process (the reference is never
        // given back). Its `set_property` is replaced before any web context exists: this runs
        // first thing in `main`, before GTK, Tauri or any other thread starts.
        unsafe {
            let class =
                gobject_sys::g_type_class_ref(webkit2gtk_sys::webkit_web_context_get_type()).cast::<GObjectClass>();
            if let Some(original) = (*class).set_property {
                if ORIGINAL.set(original).is_ok() {
                    (*class).set_property = Some(set_property);
                }
            }
        }
    }

    /// How many web contexts were given Duet's settings (for the test).
    #[cfg(test)]
    pub(super) static GIVEN: AtomicUsize = AtomicUsize::new(0);

    /// Duet's settings, owned by the caller.
    pub(super) fn settings() -> *mut WebKitMemoryPressureSettings {
        // SAFETY: the settings are made here and set through their own API. WebKit refuses a
        // conservative share at or above the strict one in place, so the strict one (default
        // 0.5) is raised first.
        unsafe {
            let settings = webkit2gtk_sys::webkit_memory_pressure_settings_new();
            webkit2gtk_sys::webkit_memory_pressure_settings_set_memory_limit(settings, LIMIT_MB);
            webkit2gtk_sys::webkit_memory_pressure_settings_set_strict_threshold(settings, STRICT);
            webkit2gtk_sys::webkit_memory_pressure_settings_set_conservative_threshold(settings, CONSERVATIVE);
            webkit2gtk_sys::webkit_memory_pressure_settings_set_kill_threshold(settings, 0.0);
            webkit2gtk_sys::webkit_memory_pressure_settings_set_poll_interval(settings, POLL_SECONDS);
            settings
        }
    }

    /// The class's `set_property`, giving Duet's settings to a context made without any.
    unsafe extern "C" fn set_property(object: *mut GObject, id: u32, value: *mut GValue, spec: *mut GParamSpec) {
        // SAFETY: GObject calls this with a live object, a value initialised for the
        // property's type and that property's spec; `ORIGINAL` is set before this function is
        // put in the class, so it is there. A boxed value is read only when the property is the
        // settings (a boxed type). Duet's value is initialised for the settings' type, takes
        // ownership of the settings, and is unset (freeing them) after the context copied them.
        unsafe {
            let Some(original) = ORIGINAL.get() else { return };
            let name = CStr::from_ptr(gobject_sys::g_param_spec_get_name(spec));
            if name.to_bytes() != PROPERTY || !gobject_sys::g_value_get_boxed(value).is_null() {
                return original(object, id, value, spec);
            }
            let mut ours: GValue = std::mem::zeroed();
            gobject_sys::g_value_init(&mut ours, webkit2gtk_sys::webkit_memory_pressure_settings_get_type());
            gobject_sys::g_value_take_boxed(&mut ours, settings().cast());
            original(object, id, &mut ours, spec);
            gobject_sys::g_value_unset(&mut ours);
            #[cfg(test)]
            GIVEN.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;

    #[test]
    #[allow(unsafe_code)]
    fn a_web_context_made_without_settings_is_given_duets() {
        before_start();
        before_start();
        // Set where the environment did not say (the tests' environment says neither).
        let set_here = SET_HERE.get().expect("recorded");
        for (name, value) in SETTINGS.iter().filter(|(name, _)| set_here.contains(name)) {
            assert_eq!(std::env::var(name).as_deref(), Ok(*value));
        }
        // A program Duet starts (the browser for a link) gets none of what Duet set.
        let mut browser = std::process::Command::new("xdg-open");
        for_other_programs(&mut browser);
        let mut removed: Vec<_> =
            browser.get_envs().filter(|(_, value)| value.is_none()).filter_map(|(name, _)| name.to_str()).collect();
        removed.sort_unstable();
        let mut expected = set_here.clone();
        expected.sort_unstable();
        assert_eq!(removed, expected);
        assert_javascriptcore_reads(set_here);
        let before = pressure::GIVEN.load(Ordering::SeqCst);
        // SAFETY: a web context made as wry makes it (no settings given) and let go; nothing
        // else holds it.
        unsafe {
            let context = webkit2gtk_sys::webkit_web_context_new();
            assert!(!context.is_null());
            gobject_sys::g_object_unref(context.cast());
        }
        // Installed twice, the wrapper still gives the settings once per context.
        assert_eq!(pressure::GIVEN.load(Ordering::SeqCst), before + 1);
    }

    /// JavaScriptCore reads each of its options Duet set as Duet's. Called from the test that
    /// makes a web context, before it: WebKit and JavaScriptCore start up on one thread.
    #[allow(unsafe_code)]
    fn assert_javascriptcore_reads(set_here: &[&str]) {
        use javascriptcore_rs_sys::{jsc_options_get_boolean, jsc_options_get_uint};

        // JavaScriptCore reads its options from the environment once, the first time they are
        // asked for (here, or in a web process as it starts): each one Duet set reads back as
        // Duet's, so none is misspelt or out of range (an option JavaScriptCore does not know
        // is ignored with a warning).
        for (name, value) in SETTINGS.iter().filter(|(name, _)| set_here.contains(name)) {
            let Some(option) = name.strip_prefix("JSC_") else { continue };
            let option = std::ffi::CString::new(option).expect("no NUL");
            // The options Duet sets are switches, written 0 or 1, and sizes: each is read as what
            // it is (JavaScriptCore refuses to read an option as another type).
            // SAFETY: a NUL-terminated option name and a place for its value, as the API asks.
            let read = unsafe {
                if *value == "0" || *value == "1" {
                    let mut on = -1;
                    assert_eq!(jsc_options_get_boolean(option.as_ptr(), &mut on), 1, "{name} is an option");
                    on.to_string()
                } else {
                    let mut number = 0;
                    assert_eq!(jsc_options_get_uint(option.as_ptr(), &mut number), 1, "{name} is an option");
                    number.to_string()
                }
            };
            assert_eq!(read, *value, "{name}");
        }
    }

    #[test]
    #[allow(unsafe_code)]
    fn webkit_takes_every_setting() {
        // WebKit refuses a value it finds out of range or out of order with a warning and keeps
        // its default: read back, each is Duet's.
        // SAFETY: settings made by `settings()`, read through their own API, then freed.
        unsafe {
            let settings = pressure::settings();
            assert_eq!(webkit2gtk_sys::webkit_memory_pressure_settings_get_memory_limit(settings), pressure::LIMIT_MB);
            assert_eq!(
                webkit2gtk_sys::webkit_memory_pressure_settings_get_strict_threshold(settings),
                pressure::STRICT
            );
            assert_eq!(
                webkit2gtk_sys::webkit_memory_pressure_settings_get_conservative_threshold(settings),
                pressure::CONSERVATIVE
            );
            assert_eq!(webkit2gtk_sys::webkit_memory_pressure_settings_get_kill_threshold(settings), 0.0);
            assert_eq!(
                webkit2gtk_sys::webkit_memory_pressure_settings_get_poll_interval(settings),
                pressure::POLL_SECONDS
            );
            webkit2gtk_sys::webkit_memory_pressure_settings_free(settings);
        }
    }
}
