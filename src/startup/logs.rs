//! Logging, set up once: `RUST_LOG` picks levels (default `info`), `log.format` picks text
//! for people or JSON for machines.

use tracing_subscriber::EnvFilter;

use crate::app::settings::LogFormat;

/// Installs the global subscriber; a second call does nothing.
pub fn init(format: LogFormat) {
    init_with_level(format, "info");
}

/// Like [`init`], with `level` when `RUST_LOG` is not set (the commands besides `serve` log
/// only warnings by default, so that their progress stays readable).
pub fn init_with_level(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    // Colours only for a person at a terminal: a container runtime or a log collector reading
    // a pipe would otherwise store the escape codes.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
