#!/usr/bin/env python3
"""An OTLP/HTTP trace receiver for tests: decodes each export with OpenTelemetry's own protobuf
messages (opentelemetry-proto), not MHP's code, and keeps the spans.

    receive.py [PORT]      (0 or none: a free port; prints "listening PORT" when ready)

POST /v1/traces   application/x-protobuf ExportTraceServiceRequest; answers an empty
                  ExportTraceServiceResponse
GET  /spans       every span received so far, as JSON: service, scope, name, kind, trace_id,
                  span_id, parent_span_id (hex, "" for a root), links [{trace_id, span_id}],
                  attributes {key: value as text}
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

SPANS = []
LOCK = threading.Lock()


def text(value):
    kind = value.WhichOneof("value")
    return "" if kind is None else str(getattr(value, kind))


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
            self.send_error(415 if self.path == "/v1/traces" else 404)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except Exception:  # a body that is not the message: the exporter's fault, say so
            self.send_error(400)
            return
        received = []
        for rs in request.resource_spans:
            resource = {a.key: text(a.value) for a in rs.resource.attributes}
            for ss in rs.scope_spans:
                for s in ss.spans:
                    received.append({
                        "service": resource.get("service.name", ""),
                        "scope": ss.scope.name,
                        "name": s.name,
                        "kind": Span.SpanKind.Name(s.kind),
                        "trace_id": s.trace_id.hex(),
                        "span_id": s.span_id.hex(),
                        "parent_span_id": s.parent_span_id.hex(),
                        "links": [{"trace_id": l.trace_id.hex(), "span_id": l.span_id.hex()}
                                  for l in s.links],
                        "attributes": {a.key: text(a.value) for a in s.attributes},
                    })
        with LOCK:
            SPANS.extend(received)
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_GET(self):
        if self.path != "/spans":
            self.send_error(404)
            return
        with LOCK:
            body = json.dumps(SPANS).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()
