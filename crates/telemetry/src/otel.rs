//! The OpenTelemetry side (cargo feature `otel`): a tracer provider exporting over OTLP/HTTP,
//! the `tracing` layer that turns spans into OpenTelemetry spans, and W3C trace context.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider,
};
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::registry::LookupSpan;

use crate::OtlpSettings;

/// Spans waiting for export, most: beyond it new spans are dropped rather than memory grown.
const QUEUE: usize = 4096;

/// The running exporter. Dropping it (or [`Exporter::shutdown`]) sends what is queued.
#[derive(Debug)]
pub struct Exporter {
    provider: SdkTracerProvider,
}

impl Exporter {
    /// Starts exporting to `settings.endpoint`: batches of spans sent every half second from
    /// the batch processor's own thread (with reqwest's blocking client, so no async runtime
    /// is needed there).
    pub fn start(settings: &OtlpSettings) -> Result<Self, String> {
        if !(0.0..=1.0).contains(&settings.sample_ratio) {
            return Err("the sample ratio must be between 0 and 1".to_owned());
        }
        let exporter = SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(settings.endpoint.clone())
            .with_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("the OTLP exporter cannot be built: {e}"))?;
        let batches = BatchSpanProcessor::builder(exporter)
            .with_batch_config(
                BatchConfigBuilder::default()
                    .with_scheduled_delay(Duration::from_millis(500))
                    .with_max_queue_size(QUEUE)
                    .build(),
            )
            .build();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(batches)
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                settings.sample_ratio,
            ))))
            .with_resource(
                Resource::builder()
                    .with_service_name(settings.service_name.clone())
                    .with_attribute(opentelemetry::KeyValue::new(
                        "service.version",
                        settings.service_version.clone(),
                    ))
                    .build(),
            )
            .build();
        Ok(Self { provider })
    }

    /// The `tracing` layer that records spans (not log events): those at info level and above,
    /// and the debug-level spans of database transactions and object-store calls (target
    /// `mhp::trace`), which are made only when a layer wants them.
    pub fn layer<S>(&self) -> Box<dyn Layer<S> + Send + Sync>
    where
        S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        let tracer = self.provider.tracer("mhp");
        Box::new(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_location(false)
                .with_threads(false)
                .with_tracked_inactivity(false)
                .with_filter(filter_fn(|meta| {
                    meta.is_span()
                        && (*meta.level() <= tracing::Level::INFO || meta.target() == "mhp::trace")
                })),
        )
    }

    /// Sends what is queued and stops.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::warn!(error = %e, "the span exporter did not shut down cleanly");
        }
    }
}

pub(crate) fn set_parent(span: &tracing::Span, headers: &http::HeaderMap) {
    let valid = headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .is_some_and(crate::is_traceparent);
    if !valid {
        return;
    }
    let parent =
        TraceContextPropagator::new().extract(&opentelemetry_http::HeaderExtractor(headers));
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
}

pub(crate) fn current_traceparent() -> Option<String> {
    let context = tracing::Span::current().context();
    let span = context.span();
    let sc = span.span_context();
    sc.is_valid().then(|| {
        format!(
            "00-{}-{}-{:02x}",
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags().to_u8()
        )
    })
}

pub(crate) fn add_link(span: &tracing::Span, traceparent: &str) {
    if !crate::is_traceparent(traceparent) {
        return;
    }
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let context = TraceContextPropagator::new().extract(&carrier);
    let linked = context.span().span_context().clone();
    if linked.is_valid() {
        span.add_link(linked);
    }
}

pub(crate) fn inject(headers: &mut http::HeaderMap) {
    let context = tracing::Span::current().context();
    if context.span().span_context().is_valid() {
        TraceContextPropagator::new()
            .inject_context(&context, &mut opentelemetry_http::HeaderInjector(headers));
    }
}
