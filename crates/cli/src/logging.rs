//! Logging: structured lines on standard error (standard output is kept for command output).
//! Log events carry ids and codes; request bodies, PHI and secrets are never logged.

use tracing_subscriber::EnvFilter;

use crate::settings::{LoadNotes, LogFormat, LogSettings};

/// Installs the global subscriber, then reports what loading the settings noticed.
pub fn init(settings: &LogSettings, notes: &LoadNotes) {
    let filter = EnvFilter::try_new(&settings.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests calling twice) is harmless: the first subscriber stays.
    let _ = match settings.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    for var in &notes.unknown_env {
        tracing::warn!(variable = %var, "unknown environment variable ignored");
    }
}
