//! The OpenAPI document is valid OpenAPI 3.0 (checked by openapi-spec-validator from PyPI) and
//! declares exactly the parameters the server accepts.

mod common;

use common::{Server, venv_python};
use serde_json::Value;

fn resolve<'a>(doc: &'a Value, p: &'a Value) -> &'a Value {
    match p["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/parameters/");
            &doc["components"]["parameters"][name]
        }
        None => p,
    }
}

#[test]
fn document_validates_as_openapi_3_0() {
    let s = Server::sample();
    let r = s.get("/api");
    assert_eq!(r.status, 200);
    let file = std::env::temp_dir().join(format!("tessera-openapi-{}.json", std::process::id()));
    std::fs::write(&file, &r.body).unwrap();
    let out = std::process::Command::new(venv_python())
        .args(["-c", "import sys, json\nfrom openapi_spec_validator import validate\nfrom openapi_spec_validator.validation import OpenAPIV30SpecValidator\nvalidate(json.load(open(sys.argv[1])), cls=OpenAPIV30SpecValidator)\nprint('valid')"])
        .arg(&file)
        .output()
        .expect("running openapi-spec-validator");
    assert!(
        out.status.success(),
        "openapi-spec-validator refused the document:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.0.3");
    assert_eq!(doc["servers"][0]["url"], s.url(""));
}

#[test]
fn parameters_match_what_the_server_accepts() {
    let s = Server::sample();
    let doc = s.json("/api");
    // What QGIS reads to size its pages.
    let limit = &doc["components"]["parameters"]["limit"]["schema"];
    assert_eq!(limit["maximum"], 10000);
    assert_eq!(limit["default"], 10);
    assert_eq!(limit["minimum"], 1);
    let bbox = &doc["components"]["parameters"]["bbox"];
    assert_eq!(bbox["style"], "form");
    assert_eq!(bbox["explode"], false);
    // 4 or 6 numbers, exactly.
    assert_eq!(bbox["schema"]["oneOf"][0]["minItems"], 4);
    assert_eq!(bbox["schema"]["oneOf"][0]["maxItems"], 4);
    assert_eq!(bbox["schema"]["oneOf"][1]["minItems"], 6);
    assert_eq!(bbox["schema"]["oneOf"][1]["maxItems"], 6);

    let collections = s.json("/collections");
    for c in collections["collections"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        let path = format!("/collections/{id}/items");
        let op = &doc["paths"][&path]["get"];
        assert!(op.is_object(), "{path} not declared");
        assert!(doc["paths"][format!("/collections/{id}")]["get"].is_object());
        assert!(doc["paths"][format!("/collections/{id}/items/{{featureId}}")]["get"].is_object());
        let declared: Vec<String> = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| resolve(&doc, p)["name"].as_str().unwrap().to_string())
            .collect();
        // Every declared parameter is accepted (a valid value gives 200) ...
        let feature = s.json(&format!("{path}?limit=1"))["features"][0].clone();
        for name in &declared {
            let value = match name.as_str() {
                "f" => "json".to_string(),
                "limit" => "3".into(),
                "offset" => "1".into(),
                "bbox" => "9,42,13,45".into(),
                "datetime" => "1900-01-01/..".into(),
                prop => match &feature["properties"][prop] {
                    Value::String(v) => v.clone(),
                    Value::Null => continue,
                    other => other.to_string(),
                },
            };
            let q: String = form_urlencoded::Serializer::new(String::new())
                .append_pair(name, &value)
                .finish();
            let r = s.get(&format!("{path}?{q}"));
            assert_eq!(
                r.status,
                200,
                "{path}?{q} declared but refused: {}",
                r.text()
            );
        }
        // ... and every property of the layer is declared as a filter.
        for p in c["metadati"]["proprieta"].as_array().unwrap() {
            let n = p["nome"].as_str().unwrap();
            assert!(
                declared.iter().any(|d| d == n),
                "{id}: property {n} not declared"
            );
        }
        // datetime on every collection (OGC API - Features /req/core/fc-time-definition).
        assert!(declared.iter().any(|d| d == "datetime"), "{id}");
        // An undeclared one is refused.
        assert_eq!(s.get(&format!("{path}?notdeclared=1")).status, 400);
    }
    // Every status code the server sends on items is declared.
    let responses = &doc["paths"]["/collections/comuni/items"]["get"]["responses"];
    for code in ["200", "304", "400", "404", "406", "414", "500", "503"] {
        assert!(responses[code].is_object(), "items does not declare {code}");
    }
}

/// schemathesis (PyPI) generates requests from the served document, valid and invalid, for
/// every operation, and checks each answer: no server error, a documented status, content
/// type and headers, a body that fits the declared schema, invalid input refused and valid
/// input accepted.
#[test]
fn schemathesis_finds_no_failure_on_any_check() {
    let s = Server::sample();
    let schemathesis = venv_python().with_file_name("schemathesis");
    let settings = common::repo().join("tests/schemathesis");
    let out = std::process::Command::new(&schemathesis)
        .arg("--config-file")
        .arg(settings.join("schemathesis.toml"))
        .args(["run", &s.url("/api"), "--checks", "all"])
        .args([
            "--max-examples",
            "25",
            "--workers",
            "2",
            "--seed",
            "20261201",
        ])
        .env("NO_COLOR", "1")
        .env("PYTHONPATH", &settings)
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", schemathesis.display()));
    let report = String::from_utf8_lossy(&out.stdout);
    let generated = report
        .lines()
        .find_map(|l| l.trim().strip_suffix(" passed")?.split_once(" generated, "))
        .map(|(g, p)| (g.to_string(), p.to_string()));
    assert!(
        out.status.success()
            && !report.contains("FAILURES")
            && generated.as_ref().is_some_and(|(g, p)| g == p),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every operation of the document was tried, but `/api` itself, which schemathesis
    // leaves out as the document's own address.
    let doc = s.json("/api");
    let operations = doc["paths"].as_object().unwrap().len() - 1;
    assert!(
        report.contains(&format!("Selected: {operations}/{operations}"))
            && report.contains(&format!("Tested: {operations}")),
        "not every one of the {operations} operations was tested:\n{report}"
    );
}
