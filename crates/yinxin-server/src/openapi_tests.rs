//! The OpenAPI document (`openapi.json`) matches the router, the bodies in `api.rs` and the
//! problem codes the server and the authority can answer with.
//!
//! The sources are read as text (`include_str!`) and parsed just well enough: `.route("…",
//! get(h).post(h))` calls in `router()`, `pub struct` bodies after a serde derive in
//! `api.rs`, and the first string literal of `bad(…)`, `bad_request(…)` and
//! `ApiError::new(…)` calls. Anything these parsers do not understand fails loudly, so that
//! the tests are extended rather than silently skipping something.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

const DOC: &str = include_str!("openapi.json");
const ROUTES: &str = include_str!("routes.rs");
const API: &str = include_str!("api.rs");
const ERRORS: &str = include_str!("error.rs");

/// The HTTP methods an OpenAPI path item and an axum `MethodRouter` may carry.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The tags an operation may carry.
const TAGS: [&str; 11] = [
    "admin",
    "escrow",
    "cms",
    "vault",
    "cas",
    "certificates",
    "revocation",
    "tsa",
    "audit",
    "tokens",
    "system",
];

fn doc() -> Value {
    serde_json::from_str(DOC).expect("openapi.json is not JSON")
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The string literal at the start of `s` (after whitespace): its content and the byte
/// length of `s` up to and including the closing quote.
fn leading_literal(s: &str) -> Option<(String, usize)> {
    let skipped = s.len() - s.trim_start().len();
    let mut chars = s[skipped..].char_indices();
    if chars.next()?.1 != '"' {
        return None;
    }
    let mut out = String::new();
    let mut escaped = false;
    for (i, c) in chars {
        match (escaped, c) {
            (true, c) => {
                out.push(c);
                escaped = false;
            }
            (false, '\\') => escaped = true,
            (false, '"') => return Some((out, skipped + i + 1)),
            (false, c) => out.push(c),
        }
    }
    None
}

/// The text between the `(` at byte `open` of `s` and its matching `)`, skipping string
/// literals.
fn call_args(s: &str, open: usize) -> &str {
    assert_eq!(
        s.as_bytes()[open],
        b'(',
        "call_args needs an opening parenthesis"
    );
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let (_, len) = leading_literal(&s[i..]).expect("unterminated string literal");
                i += len;
                continue;
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return &s[open + 1..i];
                }
            }
            _ => {}
        }
        i += 1;
    }
    panic!("unbalanced parentheses after byte {open}");
}

/// The byte offsets of the `(` of every call `name(` in `s` (a `name` that starts with an
/// identifier character must not continue one: `get(` is not found in `forget(`).
fn calls(s: &str, name: &str) -> Vec<usize> {
    let pattern = format!("{name}(");
    let glued = name.bytes().next().is_some_and(is_ident_byte);
    s.match_indices(&pattern)
        .filter(|(i, _)| !glued || *i == 0 || !is_ident_byte(s.as_bytes()[i - 1]))
        .map(|(i, _)| i + name.len())
        .collect()
}

/// The first string literal in `s`, if any.
fn first_literal(s: &str) -> Option<String> {
    let start = s.find('"')?;
    leading_literal(&s[start..]).map(|(text, _)| text)
}

/// axum's `{param}` and `{*param}` as OpenAPI's `{param}`.
fn openapi_path(axum_path: &str) -> String {
    assert!(
        !axum_path.contains("/:"),
        "{axum_path}: axum 0.8 paths use {{param}}, not :param"
    );
    axum_path.replace("{*", "{")
}

/// One route of `router_with()`: method (upper case), OpenAPI path, handler name.
type Route = (String, String, String);

/// The routes registered in `router_with()`, parsed out of routes.rs.
fn router_routes() -> Vec<Route> {
    let start = ROUTES
        .find("pub fn router_with(")
        .expect("routes.rs has no `pub fn router_with(`");
    let body = &ROUTES[start..];
    let body = &body[..body.find("\n}\n").unwrap_or(body.len())];
    for unsupported in [
        "nest",
        "merge",
        "route_service",
        "nest_service",
        "route_layer",
    ] {
        assert!(
            !body.contains(&format!(".{unsupported}(")),
            "router() uses `.{unsupported}(`, which this test does not parse yet"
        );
    }
    let mut out = Vec::new();
    for open in calls(body, ".route") {
        let args = call_args(body, open);
        let (path, used) =
            leading_literal(args).expect("the first argument of .route() is not a literal");
        let handlers = &args[used..];
        for unsupported in ["any", "on", "get_service", "post_service", "any_service"] {
            assert!(
                calls(handlers, unsupported).is_empty(),
                "route {path} uses `{unsupported}(`, which this test does not parse yet"
            );
        }
        let before = out.len();
        for method in METHODS {
            for open in calls(handlers, method) {
                let handler = call_args(handlers, open).trim().to_string();
                out.push((method.to_uppercase(), openapi_path(&path), handler));
            }
        }
        assert!(out.len() > before, "route {path} has no method");
    }
    assert!(
        out.len() > 10,
        "router() parsed to only {} routes",
        out.len()
    );
    out
}

/// Whether handler `name` in routes.rs takes the authenticated `Caller`.
fn handler_authenticates(name: &str) -> bool {
    let open = calls(ROUTES, &format!("async fn {name}"));
    assert_eq!(open.len(), 1, "no single `async fn {name}` in routes.rs");
    call_args(ROUTES, open[0]).contains("Caller(")
}

/// Every operation of the document: (METHOD, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    let mut out = Vec::new();
    for (path, item) in paths {
        let item = item.as_object().expect("a path item is an object");
        for (key, op) in item {
            if METHODS.contains(&key.as_str()) {
                out.push((key.to_uppercase(), path.clone(), op));
            }
        }
    }
    out
}

/// Follow a local `$ref` (`#/a/b`), JSON-pointer escapes included.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

fn deref<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(doc, r).unwrap_or_else(|| panic!("unresolved $ref {r}")),
        None => v,
    }
}

fn collect_refs<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref" {
                    out.push((at.clone(), child.as_str().unwrap_or("<not a string>")));
                } else {
                    collect_refs(child, format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_refs(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn document_is_openapi_3_1_and_every_ref_resolves() {
    let doc = doc();
    let version = doc["openapi"].as_str().expect("`openapi` is a string");
    assert!(
        version.starts_with("3.1"),
        "openapi is {version}, not 3.1.x"
    );
    assert_eq!(doc["info"]["title"], "yinxin");
    assert_eq!(doc["info"]["version"], "0.0.0");
    assert_eq!(doc["servers"], serde_json::json!([{ "url": "/" }]));
    assert!(
        !DOC.contains("://"),
        "the document names a host; it must stay host-independent"
    );

    let mut refs = Vec::new();
    collect_refs(&doc, String::new(), &mut refs);
    assert!(!refs.is_empty(), "no $ref at all");
    let unresolved: Vec<_> = refs
        .iter()
        .filter(|(_, r)| !r.starts_with("#/") || resolve(&doc, r).is_none())
        .collect();
    assert!(unresolved.is_empty(), "unresolved $refs: {unresolved:?}");

    let bearer = &doc["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!(bearer["type"], "http");
    assert_eq!(bearer["scheme"], "bearer");
    assert_eq!(doc["security"], serde_json::json!([{ "bearerAuth": [] }]));
}

#[test]
fn documented_operations_equal_the_router() {
    let registered: BTreeSet<(String, String)> = router_routes()
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let doc = doc();
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&registered).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routes missing from openapi.json: {undocumented:?}; \
         operations in openapi.json that router() lacks: {unrouted:?}"
    );
}

#[test]
fn operations_are_complete_and_security_matches_the_handlers() {
    let doc = doc();
    let handlers: BTreeMap<(String, String), String> = router_routes()
        .into_iter()
        .map(|(method, path, handler)| ((method, path), handler))
        .collect();
    let mut ids = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let name = format!("{method} {path}");
        let id = op["operationId"].as_str().unwrap_or_default();
        assert!(!id.is_empty(), "{name}: no operationId");
        assert!(
            ids.insert(id.to_string()),
            "{name}: operationId {id} repeats"
        );
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{name}: no summary"
        );
        let tags = op["tags"].as_array().expect("tags");
        assert!(!tags.is_empty(), "{name}: no tags");
        for tag in tags {
            let tag = tag.as_str().unwrap_or_default();
            assert!(TAGS.contains(&tag), "{name}: unknown tag {tag:?}");
        }
        let responses = op["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{name}: no success response"
        );

        // Every {param} of the path is declared as a path parameter.
        let declared: BTreeSet<String> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| deref(&doc, p))
                    .filter(|p| p["in"] == "path")
                    .filter_map(|p| p["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let in_path: BTreeSet<String> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_string)
            .collect();
        assert_eq!(declared, in_path, "{name}: path parameters");

        // Anonymous exactly when the handler does not take the `Caller` extractor.
        let handler = handlers
            .get(&(method.clone(), path.clone()))
            .unwrap_or_else(|| panic!("{name} is not routed"));
        let description = op["description"].as_str().unwrap_or_default();
        if handler_authenticates(handler) {
            assert!(
                op.get("security").is_none(),
                "{name}: needs a token but overrides `security`"
            );
            assert!(responses.contains_key("401"), "{name}: no 401");
            assert!(
                description.starts_with("Roles:"),
                "{name}: the description must start with the roles that may call it"
            );
        } else {
            assert_eq!(
                op["security"],
                serde_json::json!([]),
                "{name}: anonymous but not `security: []`"
            );
            assert!(!responses.contains_key("401"), "{name}: anonymous but 401");
            assert!(
                description.starts_with("Anonymous"),
                "{name}: the description must say it is anonymous"
            );
        }
    }
}

/// A serde struct of api.rs: its name and its JSON fields with whether each is required.
#[derive(Debug)]
struct ApiStruct {
    name: String,
    fields: Vec<(String, bool)>,
}

/// The value of `key = "…"` inside an attribute line.
fn attr_value(line: &str, key: &str) -> Option<String> {
    let at = line.find(&format!("{key} = "))?;
    first_literal(&line[at..])
}

/// Whether a `#[serde(...)]` line sets `default` (not `skip_serializing_if = "…default…"`).
fn sets_default(line: &str) -> bool {
    let inner = line
        .trim_start_matches("#[serde(")
        .trim_end_matches(")]")
        .to_string();
    inner
        .split(',')
        .any(|part| part.trim() == "default" || part.trim().starts_with("default ="))
}

/// The structs of api.rs that derive Serialize or Deserialize.
fn api_structs() -> Vec<ApiStruct> {
    let mut out = Vec::new();
    let mut derive = String::new();
    let mut in_derive = false;
    let mut serde_item = false;
    let mut current: Option<ApiStruct> = None;
    let mut rename: Option<String> = None;
    let mut defaulted = false;
    for line in API.lines() {
        let t = line.trim();
        if let Some(s) = current.as_mut() {
            if t == "}" {
                out.extend(current.take());
            } else if t.starts_with("#[serde(") {
                assert!(
                    !t.contains("flatten"),
                    "{}: #[serde(flatten)] is not handled by this test",
                    s.name
                );
                if let Some(r) = attr_value(t, "rename") {
                    rename = Some(r);
                }
                defaulted |= sets_default(t);
            } else if let Some(rest) = t.strip_prefix("pub ") {
                let (field, ty) = rest
                    .split_once(':')
                    .unwrap_or_else(|| panic!("{}: cannot parse field {t:?}", s.name));
                let json = rename.take().unwrap_or_else(|| field.trim().to_string());
                let required = !defaulted && !ty.trim().starts_with("Option<");
                s.fields.push((json, required));
                defaulted = false;
            } else {
                assert!(
                    t.is_empty() || t.starts_with("//") || t.starts_with("#["),
                    "{}: private or unparsed field line {t:?}",
                    s.name
                );
            }
            continue;
        }
        if t.starts_with("#[derive(") || in_derive {
            derive.push_str(t);
            in_derive = !t.ends_with(")]");
            if !in_derive {
                serde_item = derive.contains("Serialize") || derive.contains("Deserialize");
                derive.clear();
            }
            continue;
        }
        if serde_item && t.starts_with("#[serde(") {
            assert!(
                !t.contains("rename_all") && !sets_default(t),
                "container attribute {t:?} is not handled by this test"
            );
            continue;
        }
        let item = t.strip_prefix("pub ").unwrap_or(t);
        if let Some(rest) = item.strip_prefix("struct ") {
            if serde_item {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    rest.trim_end().ends_with('{'),
                    "{name}: only structs with named fields are handled"
                );
                current = Some(ApiStruct {
                    name,
                    fields: Vec::new(),
                });
            }
            serde_item = false;
        } else if item.starts_with("enum ") {
            assert!(!serde_item, "serde enum {t:?} is not handled by this test");
        } else if !(t.is_empty() || t.starts_with("//") || t.starts_with("#[")) {
            serde_item = false;
        }
    }
    assert!(current.is_none(), "api.rs ends inside a struct");
    assert!(
        out.len() > 10,
        "api.rs parsed to only {} structs",
        out.len()
    );
    out
}

#[test]
fn every_api_body_has_a_schema_with_the_same_fields() {
    let doc = doc();
    let schemas = doc["components"]["schemas"]
        .as_object()
        .expect("components.schemas");
    for s in api_structs() {
        let schema = schemas
            .get(&s.name)
            .unwrap_or_else(|| panic!("components.schemas lacks {}", s.name));
        assert_eq!(schema["type"], "object", "{}: not an object schema", s.name);
        let documented: BTreeSet<&str> = schema["properties"]
            .as_object()
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let fields: BTreeSet<&str> = s.fields.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            documented, fields,
            "{}: properties differ from api.rs",
            s.name
        );
        for (field, _) in &s.fields {
            let description = schema["properties"][field]["description"].as_str();
            assert!(
                description.is_some_and(|d| !d.is_empty()),
                "{}.{field}: no description",
                s.name
            );
        }
        let required: BTreeSet<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let expected: BTreeSet<&str> = s
            .fields
            .iter()
            .filter(|(_, required)| *required)
            .map(|(f, _)| f.as_str())
            .collect();
        assert_eq!(
            required, expected,
            "{}: `required` should list the non-Option, non-defaulted fields",
            s.name
        );
    }
}

/// Whether `s` looks like a problem code: lower-case words joined by `-`.
fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.split('-')
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
}

/// The problem codes a source file can produce: the first literal of `bad(…)`,
/// `bad_request(…)` and `ApiError::new(…)` calls, and, in error modules, literals that are a
/// whole line (`"too-large"`) or a match arm's value (`=> "sealed",`).
fn codes_in(src: &str, error_module: bool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for name in ["::bad", "bad_request", "ApiError::new"] {
        for open in calls(src, name) {
            if let Some(code) = first_literal(call_args(src, open))
                && is_code(&code)
            {
                out.insert(code);
            }
        }
    }
    if error_module {
        for line in src.lines() {
            let t = line.trim().trim_end_matches(',');
            let literal = t.rsplit_once("=> ").map_or(t, |(_, v)| v);
            if let Some((code, len)) = leading_literal(literal)
                && len == literal.len()
                && is_code(&code)
            {
                out.insert(code);
            }
        }
    }
    out
}

#[test]
fn every_problem_code_is_documented() {
    let mut codes = codes_in(ROUTES, false);
    codes.extend(codes_in(ERRORS, true));
    let authority = concat!(env!("CARGO_MANIFEST_DIR"), "/../yinxin-authority/src");
    let mut files = 0;
    for entry in std::fs::read_dir(authority).expect("yinxin-authority/src") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let src = std::fs::read_to_string(&path).expect("readable source");
            let error_module = path.file_name().is_some_and(|n| n == "error.rs");
            codes.extend(codes_in(&src, error_module));
            files += 1;
        }
    }
    assert!(files > 3, "found only {files} authority sources");
    for expected in ["not-found", "bad-json", "too-large", "sealed", "bad-csr"] {
        assert!(codes.contains(expected), "the parser missed {expected}");
    }

    let doc = doc();
    let problem = &doc["components"]["schemas"]["Problem"];
    let description = problem["description"].as_str().unwrap_or_default();
    let examples: BTreeSet<&str> = problem["properties"]["type"]["examples"]
        .as_array()
        .map(|e| e.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let missing: Vec<_> = codes
        .iter()
        .filter(|c| {
            !description.contains(&format!("`{c}`"))
                || !examples.contains(format!("urn:yinxin:problem:{c}").as_str())
        })
        .collect();
    assert!(
        missing.is_empty(),
        "problem codes missing from the Problem schema's description or `type` examples: \
         {missing:?}"
    );
}
