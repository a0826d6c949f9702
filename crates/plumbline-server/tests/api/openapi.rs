//! The OpenAPI document is valid OpenAPI 3.1 and says what the handlers do: parameters
//! where they are, unique operation ids, typed bodies, every refusal status, arrays as
//! arrays and the exports' true content types. Checked here in Rust, and by
//! `openapi-spec-validator` (a validator that is not ours; `.ci/run` installs it).

use plumbline_server::api::ApiDoc;
use serde_json::Value;
use std::collections::HashMap;
use utoipa::OpenApi;

fn doc() -> (String, Value) {
    let text = ApiDoc::openapi().to_pretty_json().unwrap();
    let v = serde_json::from_str(&text).unwrap();
    (text, v)
}

/// Every operation: (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.clone(), path.clone(), op.clone()));
        }
    }
    out
}

/// A schema reference resolved (one level).
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap();
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

#[test]
fn the_document_says_what_the_handlers_do() {
    let (_, doc) = doc();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut problems = Vec::new();
    for (method, path, op) in operations(&doc) {
        let at = format!("{} {path}", method.to_uppercase());
        match op["operationId"].as_str() {
            None => problems.push(format!("{at}: no operationId")),
            Some(id) => {
                if let Some(other) = ids.insert(id.to_owned(), at.clone()) {
                    problems.push(format!("{at}: operationId `{id}` also names {other}"));
                }
            }
        }
        for p in op["parameters"].as_array().into_iter().flatten() {
            let name = p["name"].as_str().unwrap();
            let in_template = path.contains(&format!("{{{name}}}"));
            match p["in"].as_str().unwrap() {
                "path" if !in_template => {
                    problems.push(format!("{at}: `{name}` is declared in: path"));
                }
                "query" if in_template => problems.push(format!("{at}: `{name}` is a path part")),
                _ => {}
            }
        }
        let responses = op["responses"].as_object().unwrap();
        let public = path == "/api/v1/openapi.json"
            || ((path == "/api/v1/session" || path == "/api/v1/invitations/accept")
                && method == "post");
        if !public && !responses.contains_key("401") {
            problems.push(format!("{at}: 401 undocumented"));
        }
        if path.contains("{project}") && !responses.contains_key("404") {
            problems.push(format!("{at}: 404 undocumented"));
        }
        if path.contains('{') && !responses.contains_key("400") {
            problems.push(format!(
                "{at}: 400 undocumented (a path part may not parse)"
            ));
        }
        if !op["requestBody"].is_null() {
            for s in ["400", "413"] {
                if !responses.contains_key(s) {
                    problems.push(format!("{at}: {s} undocumented (it takes a body)"));
                }
            }
        }
        // Response bodies are typed: no JSON body is a bare `object` without properties.
        for (status, r) in responses {
            for (ct, c) in r["content"].as_object().into_iter().flatten() {
                let s = resolve(&doc, &c["schema"]);
                if ct == "application/json"
                    && s["type"] == "object"
                    && s["properties"].is_null()
                    && s["additionalProperties"].is_null()
                {
                    problems.push(format!("{at}: {status} body is an untyped object"));
                }
            }
        }
        if let Some(c) = op["requestBody"]["content"]["application/json"].as_object() {
            let s = resolve(&doc, &c["schema"]);
            if s["type"] == "object" && s["properties"].is_null() {
                problems.push(format!("{at}: request body is an untyped object"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Listings answer arrays.
    for (method, path) in [
        ("get", "/api/v1/projects"),
        ("get", "/api/v1/projects/{project}/releases"),
        ("get", "/api/v1/projects/{project}/rubrics"),
        ("get", "/api/v1/projects/{project}/gold"),
        ("get", "/api/v1/users"),
    ] {
        let s = &doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"];
        assert_eq!(s["type"], "array", "{method} {path}: {s}");
    }
    // Exports: their true content types, not text/plain.
    let export =
        &doc["paths"]["/api/v1/projects/{project}/export"]["get"]["responses"]["200"]["content"];
    let types: Vec<&String> = export.as_object().unwrap().keys().collect();
    assert_eq!(
        types,
        [
            "application/json",
            "application/vnd.apache.parquet",
            "application/x-ndjson"
        ],
        "{export}"
    );
    // An import takes NDJSON, or multipart with the files its items name.
    let import =
        &doc["paths"]["/api/v1/projects/{project}/items"]["post"]["requestBody"]["content"];
    let types: Vec<&String> = import.as_object().unwrap().keys().collect();
    assert_eq!(
        types,
        ["application/x-ndjson", "multipart/form-data"],
        "{import}"
    );
    let form = resolve(&doc, &import["multipart/form-data"]["schema"]);
    assert_eq!(form["properties"]["items"]["format"], "binary", "{form}");
}

#[test]
fn openapi_spec_validator_finds_no_error() {
    let (text, _) = doc();
    let have = std::process::Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "openapi-spec-validator is not installed: `python3 -m pip install \
                 openapi-spec-validator` (.ci/run does)"
            );
        }
        eprintln!(
            "\n*** SKIPPED: openapi-spec-validator is not installed (python3 -m pip install \
             openapi-spec-validator); CI runs this check ***\n"
        );
        return;
    }
    let path = std::env::temp_dir().join(format!("plumbline-openapi-{}.json", std::process::id()));
    std::fs::write(&path, &text).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator", "--validation-errors", "all"])
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "openapi-spec-validator: {said}");
    assert!(said.contains("OK"), "{said}");
}

/// What axum refuses before a handler runs (a query string or a path part that does not
/// parse) answers the documented JSON error, not plain text.
#[tokio::test]
async fn refusals_before_the_handler_are_json() {
    let app = crate::support::App::start().await;
    app.project("bank").await;
    let root = app.user("root", true).await;
    let token = app.token(&root, "read,admin", None).await.1;
    for path in [
        "/api/v1/audit?actor=-99999999999999999999999999",
        "/api/v1/projects/bank/rubrics/seven",
    ] {
        let r = app
            .http
            .get(app.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{path}");
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/json",
            "{path}"
        );
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "bad_request", "{path}: {v}");
    }
}
