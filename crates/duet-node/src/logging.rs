//! The log every front end writes: on stderr, chosen by `DUET_LOG` (an `EnvFilter`, e.g.
//! `info` or `duet_node=debug,duet_net=info`), warnings only by default; colours only on a
//! terminal, so a log redirected to a file stays plain text.

/// Installs the log for this process (a second call does nothing).
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DUET_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}
