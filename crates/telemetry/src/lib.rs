//! Trace context: the W3C `traceparent` a request brings becomes the parent of its span, the
//! context is passed on to the services MHP calls, a pipeline run remembers the trace that
//! enqueued it so its steps link back to it, and (cargo feature `otel`) the spans are exported
//! over OTLP/HTTP to a collector.
//!
//! The edges call the functions here whatever the build: without the `otel` feature, or with
//! it but no exporter installed, they do nothing and [`current_traceparent`] is `None`. So the
//! default build carries no OpenTelemetry code, and no crate but this one names it.
//!
//! What spans carry: route templates, pipeline and step names, ids, outcome words. Never a
//! value from a request's path, query or body, nor PHI: the span fields are chosen where the
//! spans are made, like the log lines'.

#[cfg(feature = "otel")]
mod otel;

#[cfg(feature = "otel")]
pub use otel::Exporter;

/// Whether this build can export spans (the `otel` feature).
pub const ENABLED: bool = cfg!(feature = "otel");

/// Where and as whom spans are exported.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpSettings {
    /// The collector's OTLP/HTTP traces URL, used as given
    /// (`http://collector:4318/v1/traces`).
    pub endpoint: String,
    /// `service.name` of the resource (`mhp-server`, `mhp-worker`).
    pub service_name: String,
    /// `service.version`.
    pub service_version: String,
    /// Share of new traces sampled, 0 to 1; a trace started upstream keeps its decision.
    pub sample_ratio: f64,
}

/// Makes `headers`' `traceparent` (and `tracestate`), when valid, the parent of `span`. Call
/// it right after making the span, before it is entered.
pub fn set_parent(span: &tracing::Span, headers: &http::HeaderMap) {
    #[cfg(feature = "otel")]
    otel::set_parent(span, headers);
    #[cfg(not(feature = "otel"))]
    let _ = (span, headers);
}

/// The current span's context as a W3C `traceparent`, when spans are exported.
pub fn current_traceparent() -> Option<String> {
    #[cfg(feature = "otel")]
    return otel::current_traceparent();
    #[cfg(not(feature = "otel"))]
    None
}

/// Links `span` to the span `traceparent` names (a pipeline step to the request that enqueued
/// its run). An invalid value is ignored.
pub fn add_link(span: &tracing::Span, traceparent: &str) {
    #[cfg(feature = "otel")]
    otel::add_link(span, traceparent);
    #[cfg(not(feature = "otel"))]
    let _ = (span, traceparent);
}

/// Adds the current span's `traceparent` to the headers of an outgoing request to a service
/// the platform runs (OpenSearch, AWS). Not for tenant-configured destinations.
pub fn inject(headers: &mut http::HeaderMap) {
    #[cfg(feature = "otel")]
    otel::inject(headers);
    #[cfg(not(feature = "otel"))]
    let _ = headers;
}

/// Whether `value` is a W3C `traceparent` of version 00 naming a real trace and span:
/// `00-<32 hex>-<16 hex>-<2 hex>`, lower case, neither id all zeros.
pub fn is_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let nonzero = |s: &str| s.bytes().any(|b| b != b'0');
    matches!(parts.as_slice(), [version, trace, span, flags]
        if *version == "00" && hex(trace, 32) && hex(span, 16) && hex(flags, 2)
            && nonzero(trace) && nonzero(span))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparents_are_checked_by_their_form() {
        assert!(is_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ));
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
        ] {
            assert!(!is_traceparent(bad), "{bad}");
        }
    }

    #[cfg(not(feature = "otel"))]
    #[test]
    fn without_the_feature_nothing_is_traced_or_sent() {
        let span = tracing::info_span!("request");
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "traceparent",
            http::HeaderValue::from_static(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
        );
        set_parent(&span, &headers);
        assert_eq!(current_traceparent(), None);
        let mut out = http::HeaderMap::new();
        inject(&mut out);
        assert!(out.is_empty());
    }
}
