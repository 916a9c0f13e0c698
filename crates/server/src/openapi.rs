//! The OpenAPI 3.1 document of `/api/v1`, generated from the code: paths, methods, path
//! parameters and security from [`api::ROUTES`](crate::api::ROUTES), request and response
//! schemas derived (schemars, JSON Schema 2020-12) from the types the handlers read and write.
//! Each route's description is part of its entry in the route table the gate enforces (a route
//! cannot be added without one); schemathesis, run against the live
//! server by the test script, checks that answers keep to the document.

use std::sync::OnceLock;

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use schemars::generate::{Contract, SchemaSettings};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::api::{self, Requirement};

/// Makes a schema in a generator.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

pub(crate) fn s<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

pub(crate) fn page<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<api::PageOut<T>>()
}

pub(crate) fn list<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<Vec<T>>()
}

/// What a request carries.
#[derive(Debug, Clone, Copy)]
pub enum Body {
    /// Nothing.
    None,
    /// A JSON object of this schema.
    Json(SchemaFn),
    /// A force-plate file: CSV or JSON as the body, or a multipart form with a `file` field.
    Upload,
    /// Rows to import: CSV with a header line, or NDJSON.
    Rows,
}

/// What a successful answer carries.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    /// No body.
    Empty,
    /// JSON of this schema.
    Json(SchemaFn),
    /// CSV text.
    Csv,
    /// JSON lines.
    JsonLines,
    /// A FHIR R4 resource.
    Fhir,
    /// FHIR resources, one JSON object a line (bulk data files).
    FhirNdjson,
    /// A FHIR Bulk Data status: 202 while the export runs, its manifest (JSON) when done.
    BulkStatus,
}

/// One route's description.
#[derive(Debug, Clone, Copy)]
pub struct Doc {
    /// One line.
    pub summary: &'static str,
    /// The query parameters, as the fields of a struct.
    pub query: Option<SchemaFn>,
    /// The body.
    pub body: Body,
    /// The success statuses.
    pub ok: &'static [u16],
    /// The success body.
    pub reply: Reply,
}

pub(crate) const fn doc(summary: &'static str, ok: &'static [u16], reply: Reply) -> Doc {
    Doc {
        summary,
        query: None,
        body: Body::None,
        ok,
        reply,
    }
}

pub(crate) const fn with_body(mut d: Doc, body: Body) -> Doc {
    d.body = body;
    d
}

pub(crate) const fn with_query(mut d: Doc, q: SchemaFn) -> Doc {
    d.query = Some(q);
    d
}

/// The OperationOutcome the FHIR Bulk Data routes answer errors with (the part MHP writes).
fn operation_outcome_schema() -> Value {
    json!({
        "type": "object",
        "description": "A FHIR R4 OperationOutcome: one issue, its `code` FHIR's issue type, \
            its `details` MHP's problem code (system `https://fhir.mhp.health/CodeSystem/problem`)",
        "required": ["resourceType", "issue"],
        "properties": {
            "resourceType": {"type": "string", "const": "OperationOutcome"},
            "issue": {"type": "array", "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"type": "string", "enum": ["fatal", "error"]},
                    "code": {"type": "string"},
                    "details": {"type": "object"},
                    "diagnostics": {"type": "string"},
                },
            }},
        },
    })
}

fn problem_schema() -> Value {
    let codes: Vec<&str> = mhp_app::Code::ALL.iter().map(|c| c.as_str()).collect();
    json!({
        "type": "object",
        "description": "RFC 9457 problem details",
        "required": ["type", "title", "status", "code"],
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"},
            "code": {"type": "string", "enum": codes,
                "description": "Why the request failed, stable: branch on this, not on the text"},
            "request_id": {"type": "string"}, "checks": {"type": "object"},
            "errors": {"type": "array", "description": "An import's rows that cannot be taken",
                "items": {"type": "object", "required": ["row", "error"], "properties": {
                    "row": {"type": "integer"}, "error": {"type": "string"}}}}
        }
    })
}

const ERRORS: &[(&str, &str)] = &[
    ("400", "The request is malformed"),
    ("401", "Authentication is required"),
    ("403", "Not allowed (role, CSRF token or second factor)"),
    ("404", "Not found in the caller's scope"),
    ("405", "The path does not take this method"),
    ("408", "The request took too long"),
    ("409", "Conflict"),
    (
        "410",
        "Erased: the subject's key was destroyed and its data can no longer be read",
    ),
    ("413", "The body is too large"),
    ("415", "Unsupported media type"),
    ("422", "The content cannot be accepted"),
    ("429", "Too many attempts"),
    ("503", "A dependency is unavailable"),
];

fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_ascii_lowercase();
    for part in path.trim_start_matches("/api/v1/").split('/') {
        let part = part.trim_matches(|c| c == '{' || c == '}');
        id.push('_');
        id.extend(
            part.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
        );
    }
    id
}

fn generator(contract: Contract, inline: bool) -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "#/components/schemas/".into();
    settings.contract = contract;
    settings.inline_subschemas = inline;
    settings.meta_schema = None;
    settings.into_generator()
}

fn query_parameters(q: SchemaFn) -> Vec<Value> {
    let mut g = generator(Contract::Deserialize, true);
    let schema = q(&mut g).to_value();
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    props
        .iter()
        .map(|(name, s)| {
            // A query value is one value: drop the null alternative of an optional field.
            let mut s = s.clone();
            if let Some(types) = s.get("type").and_then(Value::as_array) {
                let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                if kept.len() == 1 {
                    s["type"] = kept[0].clone();
                }
            }
            if s.get("default").is_some_and(Value::is_null)
                && let Some(obj) = s.as_object_mut()
            {
                obj.remove("default");
            }
            if let Some(values) = s.get("enum").and_then(Value::as_array) {
                let kept: Vec<Value> = values.iter().filter(|v| !v.is_null()).cloned().collect();
                s["enum"] = Value::Array(kept);
            }
            json!({"name": name, "in": "query", "required": required.contains(&name.as_str()), "schema": s})
        })
        .collect()
}

/// What a field's name says of its unit or format (the API's naming convention), for the
/// document: `…_at_ms` are instants, `…_on` dates, `…_hz`, `…_au`, `…_days` units.
fn unit_of(name: &str) -> Option<(&'static str, Option<&'static str>)> {
    const INSTANT: &str = "An instant: milliseconds since 1970-01-01T00:00:00Z (UTC).";
    const DATE: &str = "A calendar date, YYYY-MM-DD.";
    Some(match name {
        "at_ms" => (INSTANT, Some("int64")),
        n if n.ends_with("_at_ms") => (INSTANT, Some("int64")),
        n if n.ends_with("_ms") => ("A duration in milliseconds.", Some("int64")),
        "as_of" | "birth_date" | "session_date" => (DATE, Some("date")),
        n if n.ends_with("_on") => (DATE, Some("date")),
        n if n.ends_with("_hz") => ("Hertz (samples per second).", None),
        n if n.ends_with("_au") => ("Arbitrary units: session RPE × minutes.", None),
        n if n.ends_with("_days") => ("Days.", None),
        n if n.ends_with("_min") => ("Minutes.", None),
        n if n.ends_with("_s") || n == "expires_in" => ("Seconds.", None),
        n if n.ends_with("_pct") => ("Percent.", None),
        n if n.ends_with("_kg") => ("Kilograms.", None),
        n if n.ends_with("_m") => ("Metres.", None),
        _ => return None,
    })
}

fn add_unit(name: &str, schema: &mut Value) {
    let Some((text, format)) = unit_of(name) else {
        return;
    };
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    obj.entry("description").or_insert_with(|| text.into());
    let is_string =
        |t: &Value| t == "string" || t.as_array().is_some_and(|a| a.contains(&"string".into()));
    let is_integer =
        |t: &Value| t == "integer" || t.as_array().is_some_and(|a| a.contains(&"integer".into()));
    if let (Some(f), Some(t)) = (format, obj.get("type").cloned())
        && ((f == "date" && is_string(&t)) || (f == "int64" && is_integer(&t)))
    {
        obj.entry("format").or_insert_with(|| f.into());
    }
}

/// States units and time formats on every property and parameter whose name carries them.
fn annotate_units(v: &mut Value) {
    match v {
        Value::Object(obj) => {
            if let Some(Value::Object(props)) = obj.get_mut("properties") {
                for (name, schema) in props.iter_mut() {
                    add_unit(name, schema);
                }
            }
            if obj.get("in").is_some()
                && let Some(name) = obj.get("name").and_then(Value::as_str).map(str::to_owned)
                && let Some(schema) = obj.get_mut("schema")
            {
                add_unit(&name, schema);
            }
            for child in obj.values_mut() {
                annotate_units(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(annotate_units),
        _ => {}
    }
}

/// Writes the schema `true` (any value: what a `serde_json::Value` field gets) as `{}`, which
/// means the same. JSON Schema 2020-12 allows both, but client generators read only the object
/// form (openapi-python-client refuses the whole document on a boolean schema).
fn no_boolean_schemas(v: &mut Value) {
    match v {
        Value::Object(obj) => {
            for (key, child) in obj.iter_mut() {
                match key.as_str() {
                    "properties" | "patternProperties" | "$defs" => {
                        if let Value::Object(members) = child {
                            for schema in members.values_mut() {
                                if *schema == Value::Bool(true) {
                                    *schema = json!({});
                                }
                            }
                        }
                    }
                    "items" | "schema" | "not" if *child == Value::Bool(true) => {
                        *child = json!({});
                    }
                    "oneOf" | "anyOf" | "allOf" | "prefixItems" => {
                        if let Value::Array(items) = child {
                            for schema in items.iter_mut() {
                                if *schema == Value::Bool(true) {
                                    *schema = json!({});
                                }
                            }
                        }
                    }
                    _ => {}
                }
                no_boolean_schemas(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(no_boolean_schemas),
        _ => {}
    }
}

fn build(version: &str) -> Value {
    let mut outg = generator(Contract::Serialize, false);
    let mut ing = generator(Contract::Deserialize, false);
    let mut paths = Map::new();
    for route in api::ROUTES {
        let d = &route.doc;
        let mut params: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| {
                let schema = if name == "pipeline" {
                    // The catalogue's pipelines, the only ones a run or a schedule can name.
                    let names: Vec<&str> = mhp_domain::pipeline::CATALOGUE
                        .iter()
                        .map(|p| p.name)
                        .collect();
                    json!({"type": "string", "enum": names})
                } else {
                    json!({"type": "string"})
                };
                json!({"name": name, "in": "path", "required": true, "schema": schema})
            })
            .collect();
        if let Some(q) = d.query {
            params.extend(query_parameters(q));
        }
        if matches!(d.body, Body::Upload) {
            params.push(
                json!({"name": "Idempotency-Key", "in": "header", "required": false,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200}}),
            );
        }
        let mut responses = Map::new();
        for code in d.ok {
            let content = match d.reply {
                Reply::Empty => None,
                Reply::Json(f) => {
                    Some(json!({"application/json": {"schema": f(&mut outg).to_value()}}))
                }
                Reply::Csv => Some(json!({"text/csv": {"schema": {"type": "string"}}})),
                Reply::JsonLines => {
                    Some(json!({"application/x-ndjson": {"schema": {"type": "string"}}}))
                }
                Reply::FhirNdjson => {
                    Some(json!({"application/fhir+ndjson": {"schema": {"type": "string"}}}))
                }
                Reply::BulkStatus if code == &200 => Some(json!({"application/json": {"schema": {
                "type": "object",
                "required": ["transactionTime", "request", "requiresAccessToken", "output", "error"],
                "properties": {
                    "transactionTime": {"type": "string"},
                    "request": {"type": "string"},
                    "requiresAccessToken": {"type": "boolean"},
                    "output": {"type": "array", "items": {"type": "object",
                        "required": ["type", "url"],
                        "properties": {"type": {"type": "string"}, "url": {"type": "string"},
                                       "count": {"type": "integer"}}}},
                    "error": {"type": "array", "items": {"type": "object"}},
                }}}})),
                Reply::BulkStatus => None,
                Reply::Fhir => Some(
                    json!({"application/fhir+json": {"schema": {"type": "object",
                    "required": ["resourceType"], "properties": {"resourceType": {"const": "Bundle"}}}}}),
                ),
            };
            let mut r = json!({"description": "Success"});
            if let Some(c) = content {
                r["content"] = c;
            }
            responses.insert(code.to_string(), r);
        }
        let fhir = crate::middleware::is_fhir_bulk(route.path);
        for (code, what) in ERRORS {
            let content = if fhir {
                json!({"application/fhir+json":
                    {"schema": {"$ref": "#/components/schemas/OperationOutcome"}}})
            } else {
                json!({"application/problem+json":
                    {"schema": {"$ref": "#/components/schemas/Problem"}}})
            };
            responses.insert(
                (*code).to_owned(),
                json!({"description": what, "content": content}),
            );
        }
        let mut op = json!({
            "operationId": operation_id(route.method, route.path),
            "summary": d.summary,
            "parameters": params,
            "responses": responses,
        });
        op["security"] = match route.requirement {
            Requirement::Public => json!([]),
            Requirement::Session | Requirement::PendingSession => json!([{"session": []}]),
            _ => json!([{"bearer": []}, {"oauth2": []}, {"session": []}]),
        };
        match d.body {
            Body::None => {}
            Body::Json(f) => {
                op["requestBody"] = json!({"required": true, "content":
                    {"application/json": {"schema": f(&mut ing).to_value()}}});
            }
            Body::Rows => {
                op["requestBody"] = json!({"required": true, "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                }});
            }
            Body::Upload => {
                op["requestBody"] = json!({"required": true, "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/json": {"schema": {"type": "object"}},
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}}}},
                }});
            }
        }
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| json!({}));
        entry[route.method.to_ascii_lowercase()] = op;
    }
    let mut schemas = outg.take_definitions(true);
    schemas.extend(ing.take_definitions(true));
    schemas.insert("Problem".into(), problem_schema());
    schemas.insert("OperationOutcome".into(), operation_outcome_schema());
    let mut paths = Value::Object(paths);
    annotate_units(&mut paths);
    let mut schemas = Value::Object(schemas);
    annotate_units(&mut schemas);
    no_boolean_schemas(&mut paths);
    no_boolean_schemas(&mut schemas);
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "MHP — Movement Health Platform API",
            "version": version,
            "description": "Force-plate assessments, biomechanics, injuries and return to duty. \
                Errors are RFC 9457 problem details. Authenticate with `Authorization: Bearer` \
                (an API key `mhp_…` or an access token; machines may exchange their API key for one at \
                `/oauth/token`, the client credentials grant) or the session cookie (writes then need \
                the `X-CSRF-Token` header).",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                // An API key is also an OAuth client: its id the client id, the key the secret.
                "oauth2": {"type": "oauth2", "flows": {"clientCredentials": {
                    "tokenUrl": crate::oauth::TOKEN_PATH, "scopes": {}}}},
                "session": {"type": "apiKey", "in": "cookie", "name": mhp_auth::session::COOKIE},
            },
        },
    })
}

/// The document, built once.
pub fn document(version: &str) -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| build(version))
}

/// `GET /api/v1/openapi.json`
pub async fn serve_document(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
) -> Response {
    let mut res = axum::Json(document(state.app.build.version)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// `GET /api/v1/docs`: a self-contained page (no third-party script) that lists the
/// operations of the document. Its inline style and script are allowed by hash only.
pub async fn docs_page() -> Response {
    static PAGE: OnceLock<(String, String)> = OnceLock::new();
    let (page, csp) = PAGE.get_or_init(|| {
        use base64::Engine as _;
        use sha2::{Digest as _, Sha256};
        let hash = |text: &str| {
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
        };
        let csp = format!(
            "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            hash(DOCS_STYLE),
            hash(DOCS_SCRIPT)
        );
        let page = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>MHP API</title>\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <style>{DOCS_STYLE}</style></head><body>\n<h1>MHP API <small id=\"v\"></small></h1>\n\
             <p>The machine-readable document is at <a href=\"/api/v1/openapi.json\"><code>/api/v1/openapi.json</code></a> \
             (OpenAPI 3.1).</p>\n<div id=\"ops\">Loading…</div>\n<script>{DOCS_SCRIPT}</script></body></html>\n"
        );
        (page, csp)
    });
    let mut res = Html(page.clone()).into_response();
    if let Ok(v) = HeaderValue::from_str(csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

const DOCS_STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;\
padding:0 1rem;color:#1b1f24}h1{font-size:1.5rem}code{background:#f2f4f7;padding:0 .25rem;\
border-radius:3px}.op{border:1px solid #d8dde3;border-radius:6px;margin:.5rem 0;padding:.5rem .75rem}\
.m{display:inline-block;min-width:4.5rem;font-weight:600}.GET{color:#0a6}.POST{color:#06c}\
.PUT,.PATCH{color:#a60}.DELETE{color:#c22}details pre{background:#f7f8fa;padding:.5rem;\
overflow:auto;font-size:12px}";

const DOCS_SCRIPT: &str = "fetch('/api/v1/openapi.json').then(r=>r.json()).then(doc=>{\
document.getElementById('v').textContent=doc.info.version;\
const ops=document.getElementById('ops');ops.textContent='';\
for(const [path,item] of Object.entries(doc.paths)){for(const [method,op] of Object.entries(item)){\
const d=document.createElement('details');d.className='op';\
const s=document.createElement('summary');const m=document.createElement('span');\
m.className='m '+method.toUpperCase();m.textContent=method.toUpperCase();\
const c=document.createElement('code');c.textContent=path;\
s.append(m,c,document.createTextNode(' \\u2014 '+op.summary));d.append(s);\
const pre=document.createElement('pre');pre.textContent=JSON.stringify(op,null,2);d.append(pre);\
ops.append(d);}}}).catch(()=>{document.getElementById('ops').textContent='The document could not be loaded.'});";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_a_summary_and_a_unique_id() {
        let mut ids = std::collections::BTreeSet::new();
        for r in api::ROUTES {
            assert!(
                !r.doc.summary.trim().is_empty(),
                "{} {} has no summary",
                r.method,
                r.path
            );
            assert!(
                !r.doc.ok.is_empty(),
                "{} {} has no success status",
                r.method,
                r.path
            );
            assert!(
                ids.insert(operation_id(r.method, r.path)),
                "{} {} repeats an operation id",
                r.method,
                r.path
            );
        }
    }

    #[test]
    fn the_document_is_openapi_3_1_with_resolvable_references() {
        let doc = build("test");
        assert_eq!(doc["openapi"], "3.1.0");
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"]
            .as_object()
            .unwrap_or_else(|| unreachable!());
        for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap_or_default();
            assert!(schemas.contains_key(name), "dangling reference to {name}");
        }
        let upload = &doc["paths"]["/api/v1/orgs/{org}/subjects/{subject}/assessments"]["post"];
        assert!(upload["requestBody"]["content"]["multipart/form-data"].is_object());
        assert_eq!(upload["security"][0]["bearer"], json!([]));
        let login = &doc["paths"]["/api/v1/auth/login"]["post"];
        assert_eq!(login["security"], json!([]));
    }

    /// A run's and a schedule's `params` say what the catalogue declares: every parameter of
    /// every pipeline with its type, range and the pipelines that take it, nothing else; the
    /// `{pipeline}` path parameter lists the catalogue's pipelines.
    #[test]
    fn run_parameters_are_the_catalogues() {
        let doc = build("test");
        for component in ["NewRunIn", "ScheduleIn"] {
            let params = &doc["components"]["schemas"][component]["properties"]["params"];
            assert_eq!(params["additionalProperties"], json!(false), "{component}");
            let documented = params["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{component} params without properties"));
            let mut declared = std::collections::BTreeMap::<&str, Vec<&str>>::new();
            for def in mhp_domain::pipeline::CATALOGUE {
                for p in def.params {
                    declared.entry(p.name).or_default().push(def.name);
                }
            }
            assert_eq!(
                documented.keys().map(String::as_str).collect::<Vec<_>>(),
                declared.keys().copied().collect::<Vec<_>>(),
                "{component}"
            );
            for (name, pipelines) in &declared {
                assert_eq!(documented[*name]["x-pipelines"], json!(pipelines), "{name}");
            }
            assert_eq!(documented["train_fraction"]["exclusiveMaximum"], json!(1.0));
            assert_eq!(documented["subject"]["format"], json!("uuid"));
            let description = params["description"].as_str().unwrap_or_default();
            assert!(description.contains("(required: subject)"), "{description}");
        }
        let runs = &doc["paths"]["/api/v1/orgs/{org}/pipelines/{pipeline}/runs"]["post"];
        let pipeline = runs["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == "pipeline"))
            .unwrap_or_else(|| panic!("no pipeline parameter"));
        assert_eq!(
            pipeline["schema"]["enum"],
            json!(["train-injury-risk", "score-all", "score-subject"])
        );
    }

    /// The whole document, as a client generator reads it. A change to the API shows up here
    /// as a diff to review; `UPDATE_EXPECT=1 cargo test -p mhp-server openapi` accepts it.
    #[test]
    fn the_document_matches_its_snapshot() {
        let doc = build("snapshot");
        let text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| unreachable!());
        expect_test::expect_file!["../tests/snapshots/openapi.json"].assert_eq(&(text + "\n"));
    }
}
