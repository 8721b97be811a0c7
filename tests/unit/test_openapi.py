"""/openapi.json describes every route, with schemas generated from the pydantic models."""
import json

import services.gateway.service  # noqa: F401  registers the routes
from services.gateway.http import ROUTES
from services.gateway.openapi import build_openapi


def _resolve(document, ref):
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_every_route_is_documented_with_its_method():
    document = build_openapi()
    assert document["openapi"] == "3.1.0"
    for spec in ROUTES:
        assert spec.method.lower() in document["paths"][spec.openapi_path], spec.path


def test_every_schema_reference_resolves():
    document = build_openapi()
    text = json.dumps(document)
    refs = {part.split('"')[0] for part in text.split('"$ref": "')[1:]}
    assert refs, "expected schema references"
    for ref in refs:
        assert _resolve(document, ref), ref


def test_commitment_request_schema_comes_from_the_model():
    document = build_openapi()
    operation = document["paths"]["/v1/commitments"]["post"]
    schema = _resolve(document, operation["requestBody"]["content"]["application/json"]
                      ["schema"]["$ref"])
    assert {"department_code", "village_code", "kind", "unit", "quantity"} <= set(
        schema["required"])
    assert "409" in operation["responses"] and "401" in operation["responses"]
    header_names = {p["name"] for p in operation["parameters"]}
    assert "Idempotency-Key" in header_names


def test_idempotency_key_is_documented_only_where_it_is_honoured():
    document = build_openapi()

    def takes_key(path, method):
        operation = document["paths"][path][method]
        return "Idempotency-Key" in {p["name"] for p in operation.get("parameters", [])}

    assert takes_key("/v1/assignments", "post")
    assert not takes_key("/v1/api-keys", "post")
    assert not takes_key("/v1/problems/{problem_id}/resolve", "post")
