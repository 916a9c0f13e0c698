//! Logging: structured lines on standard error (standard output is kept for command output).
//! Log events carry ids and codes; request bodies, PHI and secrets are never logged. `mhp serve`
//! and `mhp worker` also export their spans over OTLP when `telemetry.otlp_endpoint` is set
//! (builds with the `otel` feature).

use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry};

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
    // A second init (tests calling twice) is harmless: the first subscriber stays.
    let (filter, layers) = layers(settings, traces, std::io::stderr);
    let _ = tracing_subscriber::registry()
        .with(layers)
        .with(filter)
        .try_init();
    for var in &notes.unknown_env {
        tracing::warn!(variable = %var, "unknown environment variable ignored");
    }
}

/// The log filter, and the layers it filters for: the log lines written to `writer` and the
/// traces' layer if any. The filter goes on top of them (outside the list, whose layers enable
/// what any one of them enables).
fn layers<W>(
    settings: &LogSettings,
    traces: Option<BoxedLayer>,
    writer: W,
) -> (LogFilter, Vec<BoxedLayer>)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&settings.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let format = match settings.format {
        LogFormat::Auto if std::io::IsTerminal::is_terminal(&std::io::stderr()) => {
            LogFormat::Pretty
        }
        LogFormat::Auto => LogFormat::Json,
        chosen => chosen,
    };
    let lines: BoxedLayer = match format {
        LogFormat::Auto | LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().with_writer(writer).boxed(),
    };
    let log_filter = LogFilter {
        filter,
        spans_for_traces: traces.is_some(),
    };
    let mut layers = vec![lines];
    layers.extend(traces);
    (log_filter, layers)
}

/// `log.level` for the whole subscriber, letting through as well the spans that traces export
/// when they are on (so that `log.level = "warn"` does not stop them; the log lines show such a
/// span only as the context of an event the level lets through).
///
/// A filter of the subscriber rather than a per-layer filter on the log lines: with
/// tracing-subscriber 0.3's per-layer filtering the log lines lost events (`mhp serve` on
/// PostgreSQL with `backup.schedule = off` never logged its "listening" line; the shared-root
/// test in `crates/cli/tests/it/root.rs` runs that way and waits for the line, and failed
/// before). The exact trigger was not isolated: per-layer filters keep per-thread state between
/// a callsite's `enabled` and its event, which is known to go wrong (tokio-rs/tracing#2704).
struct LogFilter {
    filter: EnvFilter,
    spans_for_traces: bool,
}

impl LogFilter {
    fn traced(&self, meta: &Metadata<'_>) -> bool {
        self.spans_for_traces
            && meta.is_span()
            && (*meta.level() <= tracing::Level::INFO || meta.target() == "mhp::trace")
    }
}

impl<S> Layer<S> for LogFilter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.traced(meta) {
            Interest::always()
        } else {
            Layer::<S>::register_callsite(&self.filter, meta)
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.traced(meta) || Layer::<S>::enabled(&self.filter, meta, ctx)
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        if self.spans_for_traces {
            None
        } else {
            Layer::<S>::max_level_hint(&self.filter)
        }
    }

    // The filter's own bookkeeping of spans, for directives that name a span or a field.
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        self.filter.on_new_span(attrs, id, ctx);
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        self.filter.on_record(id, values, ctx);
    }

    fn on_enter(&self, id: &tracing::span::Id, ctx: Context<'_, S>) {
        self.filter.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &tracing::span::Id, ctx: Context<'_, S>) {
        self.filter.on_exit(id, ctx);
    }

    fn on_close(&self, id: tracing::span::Id, ctx: Context<'_, S>) {
        self.filter.on_close(id, ctx);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects what the log lines' layer writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::ErrorKind::Other)?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for Captured {
        type Writer = Captured;
        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    /// A value whose formatting logs, below the level, as a query or a client does when an
    /// event's field is computed.
    struct Chatty;

    impl std::fmt::Display for Chatty {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            tracing::debug!(target: "chatty", "formatting");
            f.write_str("chatty")
        }
    }

    #[test]
    fn the_log_filter_lets_through_the_level_and_nothing_below() {
        for traced in [false, true] {
            let out = Captured::default();
            let settings = LogSettings {
                level: "info".into(),
                format: LogFormat::Json,
            };
            // A layer that wants spans only, as the OTLP exporter's does.
            let traces: Option<BoxedLayer> = traced.then(|| {
                tracing_subscriber::layer::Identity::new()
                    .with_filter(tracing_subscriber::filter::filter_fn(|m| m.is_span()))
                    .boxed()
            });
            let (filter, layers) = layers(&settings, traces, out.clone());
            let subscriber = tracing_subscriber::registry().with(layers).with(filter);
            tracing::subscriber::with_default(subscriber, || {
                tracing::info!(value = %Chatty, "first");
                // Asked and turned down without an event, as the `log` bridge asks for a record
                // that is then not logged.
                let _ = tracing::enabled!(target: "chatty", tracing::Level::DEBUG);
                tracing::info!("second");
                tracing::debug!("below the level");
                tracing::info!("third");
            });
            let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
            for line in ["first", "second", "third"] {
                assert!(
                    text.contains(&format!("\"message\":\"{line}\"")),
                    "traced {traced}: {line} in {text}"
                );
            }
            assert!(
                !text.contains("below the level") && !text.contains("formatting"),
                "traced {traced}: {text}"
            );
        }
    }
}
