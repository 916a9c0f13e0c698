//! Logging: structured lines on standard error (standard output is kept for command output).
//! Log events carry ids and codes; request bodies, PHI and secrets are never logged. `mhp serve`
//! and `mhp worker` also export their spans over OTLP when `telemetry.otlp_endpoint` is set
//! (builds with the `otel` feature).

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _, Registry};

use crate::Failure;
use crate::settings::{LoadNotes, LogFormat, LogSettings, Settings};

/// Keeps the span exporter running; dropping it sends the spans still queued.
#[derive(Debug)]
pub struct Traces {
    #[cfg(feature = "otel")]
    _exporter: Option<mhp_telemetry::Exporter>,
}

/// Installs the global subscriber, then reports what loading the settings noticed.
pub fn init(settings: &LogSettings, notes: &LoadNotes) {
    install(settings, notes, None);
}

/// As [`init`], and exports spans as `service` (`mhp-server`, `mhp-worker`) when the settings
/// name a collector.
pub fn init_with_traces(
    settings: &Settings,
    notes: &LoadNotes,
    service: &str,
) -> Result<Traces, Failure> {
    #[cfg(feature = "otel")]
    {
        let exporter = match &settings.telemetry.otlp_endpoint {
            Some(endpoint) => Some(
                mhp_telemetry::Exporter::start(&mhp_telemetry::OtlpSettings {
                    endpoint: endpoint.clone(),
                    service_name: service.to_owned(),
                    service_version: env!("CARGO_PKG_VERSION").to_owned(),
                    sample_ratio: settings.telemetry.sample_ratio,
                })
                .map_err(|e| Failure::Invalid(format!("telemetry.otlp_endpoint: {e}")))?,
            ),
            None => None,
        };
        install(
            &settings.log,
            notes,
            exporter.as_ref().map(mhp_telemetry::Exporter::layer),
        );
        if let Some(endpoint) = &settings.telemetry.otlp_endpoint {
            tracing::info!(service, endpoint = %endpoint, "exporting spans over OTLP");
        }
        Ok(Traces {
            _exporter: exporter,
        })
    }
    #[cfg(not(feature = "otel"))]
    {
        // Settings validation refuses an endpoint in a build that cannot export.
        let _ = service;
        install(&settings.log, notes, None);
        Ok(Traces {})
    }
}

type BoxedLayer = Box<dyn tracing_subscriber::Layer<Registry> + Send + Sync>;

fn install(settings: &LogSettings, notes: &LoadNotes, traces: Option<BoxedLayer>) {
    let filter = EnvFilter::try_new(&settings.level).unwrap_or_else(|_| EnvFilter::new("info"));
    // The log filter applies to the log lines only, so that `log.level = "warn"` does not stop
    // the spans of traces.
    let lines: BoxedLayer = match settings.format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
    };
    // A second init (tests calling twice) is harmless: the first subscriber stays.
    let mut layers = vec![lines];
    layers.extend(traces);
    let _ = tracing_subscriber::registry().with(layers).try_init();
    for var in &notes.unknown_env {
        tracing::warn!(variable = %var, "unknown environment variable ignored");
    }
}
