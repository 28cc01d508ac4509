"""``api.openapi30``: OpenAPI 3.1 → 3.0, rule by rule.

Each converted schema is checked two ways: its 3.0 form is what the rule says, and the
3.0 schema (openapi-schema-validator's OAS 3.0 dialect) accepts and rejects the same
instances as the 3.1 schema (JSON Schema 2020-12).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

from api.openapi30 import schema_to_30, to_openapi30

CASES: list[tuple[str, dict[str, Any], dict[str, Any], list[Any]]] = [
    (
        "anyOf with null → nullable",
        {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Note"},
        {"type": "string", "nullable": True, "title": "Note"},
        ["draft", None, 3],
    ),
    (
        "type list with null → nullable",
        {"type": ["integer", "null"], "minimum": 0},
        {"type": "integer", "nullable": True, "minimum": 0},
        [0, None, -1, "0"],
    ),
    (
        "type list without null → anyOf",
        {"type": ["integer", "string"]},
        {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        [1, "a", None, 1.5],
    ),
    (
        "several members and null → nullable anyOf",
        {"anyOf": [{"type": "integer"}, {"type": "boolean"}, {"type": "null"}]},
        {
            "anyOf": [
                {"type": "integer", "nullable": True},
                {"type": "boolean", "nullable": True},
            ],
            "nullable": True,
        },
        [1, True, None, "x"],
    ),
    (
        "type list of several types and null → nullable members",
        {"type": ["integer", "string", "null"]},
        {
            "anyOf": [
                {"type": "integer", "nullable": True},
                {"type": "string", "nullable": True},
            ],
            "nullable": True,
        },
        [1, "a", None, 1.5],
    ),
    (
        "const → one-value enum",
        {"type": "string", "const": "Feature"},
        {"type": "string", "enum": ["Feature"]},
        ["Feature", "feature"],
    ),
    (
        "numeric exclusive bounds → boolean ones",
        {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        {
            "type": "number",
            "minimum": 0,
            "exclusiveMinimum": True,
            "maximum": 1,
            "exclusiveMaximum": True,
        },
        [0, 0.5, 1, -1],
    ),
    (
        "examples array → example",
        {"type": "array", "items": {"type": "string"}, "examples": [["652301001001"], []]},
        {"type": "array", "items": {"type": "string"}, "example": ["652301001001"]},
        [["652301001001"], [1]],
    ),
    (
        "contentMediaType → format binary, nested in properties",
        {
            "type": "object",
            "properties": {
                "file": {"type": "string", "contentMediaType": "application/octet-stream"},
                "mapping": {
                    "anyOf": [
                        {"type": "string", "contentMediaType": "application/octet-stream"},
                        {"type": "null"},
                    ]
                },
            },
            "required": ["file"],
        },
        {
            "type": "object",
            "properties": {
                "file": {"type": "string", "format": "binary"},
                "mapping": {"type": "string", "format": "binary", "nullable": True},
            },
            "required": ["file"],
        },
        [{"file": "x"}, {"file": "x", "mapping": None}, {}, {"file": 1}],
    ),
    (
        "a tuple (prefixItems) keeps only what 3.0 can say",
        {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}]},
        {"type": "array"},
        [[1.0, 2.0]],
    ),
    (
        "array items and additionalProperties are converted too",
        {
            "type": "object",
            "additionalProperties": {"type": ["string", "null"]},
            "properties": {"band": {"type": "array", "items": {"const": 300}}},
        },
        {
            "type": "object",
            "additionalProperties": {"type": "string", "nullable": True},
            "properties": {"band": {"type": "array", "items": {"enum": [300]}}},
        },
        [{"a": None, "band": [300]}, {"a": 1}, {"band": [301]}],
    ),
]


@pytest.mark.parametrize(("rule", "given", "expected", "instances"), CASES)
def test_schema_rules(
    rule: str, given: dict[str, Any], expected: dict[str, Any], instances: list[Any]
) -> None:
    before = copy.deepcopy(given)
    converted = schema_to_30(given)
    assert converted == expected, rule
    assert given == before  # the input is left as it was
    for instance in instances:
        v31 = Draft202012Validator(given).is_valid(instance)
        v30 = OAS30Validator(converted).is_valid(instance)
        assert v31 == v30, f"{rule}: {instance!r} is {v31} in 3.1 but {v30} in 3.0"


def test_nullable_reference_becomes_all_of() -> None:
    given = {"anyOf": [{"$ref": "#/components/schemas/Publish"}, {"type": "null"}]}
    assert schema_to_30(given) == {
        "nullable": True,
        "allOf": [{"$ref": "#/components/schemas/Publish"}],
    }
    described = {"$ref": "#/components/schemas/Paper", "default": "A4"}
    assert schema_to_30(described) == {
        "allOf": [{"$ref": "#/components/schemas/Paper"}],
        "default": "A4",
    }


def test_only_null_is_an_enum_of_null() -> None:
    converted = schema_to_30({"type": "null"})
    assert converted == {"nullable": True, "enum": [None]}
    assert OAS30Validator(converted).is_valid(None)
    assert not OAS30Validator(converted).is_valid("x")


def _document() -> dict[str, Any]:
    """A small 3.1 document with 3.1-only constructs in every place schemas live, and
    examples whose values look like schema keywords (they must be copied untouched)."""
    nullable = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    example = {"type": ["null"], "const": "x", "examples": [1], "note": None}
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "gridgov",
            "summary": "Grid governance",
            "version": "0.1.0",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "paths": {
            "/plans/{plan_id}": {
                "parameters": [
                    {"name": "plan_id", "in": "path", "required": True, "schema": {"const": 3}}
                ],
                "post": {
                    "parameters": [
                        {
                            "name": "if-match",
                            "in": "header",
                            "schema": nullable,
                            "examples": {"etag": {"value": '"plan-3-v2"'}},
                        }
                    ],
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Body"},
                                "example": example,
                            }
                        }
                    },
                    "responses": {
                        "200": {
                            "description": "ok",
                            "headers": {"ETag": {"schema": nullable}},
                            "content": {
                                "application/json": {
                                    "schema": {"type": "object", "properties": {"n": nullable}},
                                    "examples": {"draft": {"value": example}},
                                }
                            },
                        }
                    },
                },
            }
        },
        "components": {
            "schemas": {
                "Body": {
                    "type": "object",
                    "properties": {"note": nullable, "size": {"exclusiveMinimum": 0}},
                    "examples": [{"note": None}],
                }
            },
            "parameters": {"Limit": {"name": "limit", "in": "query", "schema": nullable}},
        },
        "webhooks": {},
    }


def test_document_is_valid_30_and_examples_are_untouched() -> None:
    given = _document()
    assert not list(OpenAPIV31SpecValidator(copy.deepcopy(given)).iter_errors())
    before = copy.deepcopy(given)
    converted = to_openapi30(given)
    assert given == before
    errors = [e.message for e in OpenAPIV30SpecValidator(converted).iter_errors()]
    assert not errors, errors
    assert converted["openapi"] == "3.0.3"
    assert "webhooks" not in converted
    assert "jsonSchemaDialect" not in converted
    assert converted["info"]["description"] == "Grid governance"
    assert "summary" not in converted["info"]
    assert converted["info"]["license"] == {"name": "MIT"}
    item = converted["paths"]["/plans/{plan_id}"]
    assert item["parameters"][0]["schema"] == {"enum": [3]}
    post = item["post"]
    assert post["parameters"][0]["schema"] == {"type": "string", "nullable": True}
    assert post["parameters"][0]["examples"] == {"etag": {"value": '"plan-3-v2"'}}
    ok = post["responses"]["200"]
    assert ok["headers"]["ETag"]["schema"] == {"type": "string", "nullable": True}
    body = given["paths"]["/plans/{plan_id}"]["post"]["requestBody"]["content"]
    assert (
        post["requestBody"]["content"]["application/json"]["example"]
        == (body["application/json"]["example"])
    )
    assert ok["content"]["application/json"]["examples"]["draft"]["value"]["type"] == ["null"]
    schemas = converted["components"]["schemas"]["Body"]
    assert schemas["example"] == {"note": None}
    assert schemas["properties"]["size"] == {"minimum": 0, "exclusiveMinimum": True}
    limit = converted["components"]["parameters"]["Limit"]
    assert limit["schema"] == {"type": "string", "nullable": True}
