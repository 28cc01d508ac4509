"""The OpenAPI documents over HTTP: every operation documented with examples that fit its
schemas (``/openapi.json``, OpenAPI 3.1), and the OpenAPI 3.0 rendition the OGC landing
page links to as ``service-desc`` (conformance class oas30), checked with
openapi-spec-validator.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator
from sqlalchemy import Engine

from api.app import create_app

OAS30 = "application/vnd.oai.openapi+json;version=3.0"
METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def client(demo_engine: Engine) -> Iterator[TestClient]:
    url = demo_engine.url.render_as_string(hide_password=False)
    with TestClient(create_app(url)) as c:
        yield c


@pytest.fixture(scope="module")
def document(client: TestClient) -> dict[str, Any]:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator of ``schema``; its ``#/components/…`` references
    resolve in ``document``'s components, carried along."""
    return Draft202012Validator({**schema, "components": document["components"]})


def _examples(holder: dict[str, Any]) -> list[tuple[str, Any]]:
    """``(name, value)`` of a Media Type or Parameter Object's ``example``/``examples``;
    an example given as ``externalValue`` has the URL as its value."""
    found: list[tuple[str, Any]] = []
    if "example" in holder:
        found.append(("example", holder["example"]))
    for name, example in holder.get("examples", {}).items():
        assert "value" in example or "externalValue" in example, name
        found.append((name, example.get("value", example.get("externalValue"))))
    return found


def _schema_examples(document: dict[str, Any], schema: dict[str, Any]) -> list[Any]:
    """The ``examples`` of a schema, following ``$ref`` and ``anyOf`` members."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _schema_examples(document, document["components"]["schemas"][name])
    found = list(schema.get("examples", []))
    for member in schema.get("anyOf", []):
        found += _schema_examples(document, member)
    return found


def _check(document: dict[str, Any], schema: dict[str, Any], value: Any, where: str) -> None:
    errors = [e.message for e in _validator(document, schema).iter_errors(value)]
    assert not errors, f"{where}: the example does not fit its schema: {errors[:3]}"


def test_every_operation_has_a_success_example(document: dict[str, Any]) -> None:
    """Each operation's success response has an example per media type, and JSON
    examples are valid against the response's schema."""
    checked = 0
    for name, operation in _operations(document):
        success = sorted(code for code in operation["responses"] if code.startswith("2"))
        assert success, f"{name}: no success response"
        content = operation["responses"][success[0]].get("content")
        assert content, f"{name}: the {success[0]} response has no media type"
        for media, entry in content.items():
            examples = _examples(entry)
            assert examples, f"{name}: no example of its {success[0]} {media} response"
            if "json" in media and "schema" in entry:
                for label, value in examples:
                    _check(document, entry["schema"], value, f"{name} {media} {label}")
                    checked += 1
    assert checked >= 25  # JSON bodies were validated, not only found


def test_every_parameter_and_body_has_examples(document: dict[str, Any]) -> None:
    """Path, query and header parameters and request bodies have examples that fit."""
    for name, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            where = f"{name} parameter {parameter['name']}"
            examples = _examples(parameter)
            assert examples, f"{where}: no example"
            for label, value in examples:
                _check(document, parameter["schema"], value, f"{where} {label}")
        body = operation.get("requestBody")
        if body is None:
            continue
        for media, entry in body["content"].items():
            where = f"{name} {media} body"
            values = [v for _, v in _examples(entry)] + _schema_examples(document, entry["schema"])
            assert values, f"{where}: no example"
            if "json" in media:
                for value in values:
                    _check(document, entry["schema"], value, where)


def test_service_desc_is_openapi_30(client: TestClient, document: dict[str, Any]) -> None:
    """/req/oas30/oas-definition-1: the landing page links the API definition as
    ``application/vnd.oai.openapi+json;version=3.0``, and what is served there is a valid
    OpenAPI 3.0 document of the same API."""
    landing = client.get("/ogc").json()
    [link] = [link for link in landing["links"] if link["rel"] == "service-desc"]
    assert link["type"] == OAS30
    r = client.get(link["href"])
    assert r.status_code == 200
    assert r.headers["content-type"] == OAS30
    served = r.json()
    assert served["openapi"].startswith("3.0.")
    errors = [e.message for e in OpenAPIV30SpecValidator(served).iter_errors()]
    assert not errors, errors[:5]
    assert set(served["paths"]) == set(document["paths"])
    assert "/ogc/api" in served["paths"]
    # the 3.1 document stays what FastAPI makes (schemathesis fuzzes it)
    assert document["openapi"].startswith("3.1.")
    assert not [e.message for e in OpenAPIV31SpecValidator(document).iter_errors()]


@pytest.mark.parametrize("query", ["f=html", "f=yaml", "foo=bar"])
def test_api_definition_bad_parameters_are_400(client: TestClient, query: str) -> None:
    r = client.get(f"/ogc/api?{query}")
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 400
