"""/openapi.json, generated from the routes and their pydantic models."""
from __future__ import annotations

from pydantic.json_schema import models_json_schema

from services.common.contract.http_bodies import ProblemBody
from services.gateway.http import ROUTES

REF = "#/components/schemas/{model}"


def build_openapi() -> dict:
    models = {ProblemBody}
    for spec in ROUTES:
        models.update(m for m in (spec.body, spec.response) if m is not None)
    mode_pairs = [(m, "validation") for m in models] + [(m, "serialization") for m in models]
    refs, definitions = models_json_schema(mode_pairs, ref_template=REF)
    schemas = definitions.get("$defs", {})

    def ref(model, mode):
        return refs[(model, mode)]

    problem = {"application/problem+json": {"schema": ref(ProblemBody, "serialization")}}
    paths: dict = {}
    for spec in ROUTES:
        operation: dict = {
            "summary": spec.summary,
            "tags": [spec.tag],
            "operationId": f"{spec.method.lower()}_{spec.openapi_path}",
            "responses": {},
        }
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _path_names(spec.openapi_path)
        ] + [
            {"name": name, "in": "query", "required": False, "description": text,
             "schema": {"type": "string"}}
            for name, text in spec.query.items()
        ]
        if spec.idempotent:
            parameters.append({"name": "Idempotency-Key", "in": "header", "required": False,
                               "schema": {"type": "string", "maxLength": 255}})
        if parameters:
            operation["parameters"] = parameters
        if spec.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref(spec.body, "validation")}},
            }
        success: dict = {"description": "success"}
        if spec.response is not None:
            success["content"] = {"application/json": {"schema": ref(spec.response,
                                                                     "serialization")}}
        operation["responses"][str(spec.status)] = success
        statuses = set(spec.errors)
        if spec.allow is not None:
            statuses |= {401, 403}
        if spec.body is not None:
            statuses |= {400, 413, 422}
        for status in sorted(statuses):
            operation["responses"][str(status)] = {"description": "problem", "content": problem}
        if spec.allow is not None:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(spec.openapi_path, {})[spec.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Guabang", "version": "1",
                 "description": "Cadres to the grassroots: assignments, pooled resources and "
                                "every township's feed."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _path_names(path: str) -> list[str]:
    import re
    return re.findall(r"{([a-z_]+)}", path)
