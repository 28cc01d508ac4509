"""OpenAPI 3.1 → 3.0 for OGC API – Features' ``oas30`` conformance class.

FastAPI writes OpenAPI 3.1 (JSON Schema 2020-12); OGC clients ask for 3.0
(``application/vnd.oai.openapi+json;version=3.0``). :func:`to_openapi30` rewrites the
constructs 3.0 lacks, and only inside Schema Objects (components, parameters, media
types, headers), so examples and descriptions are copied untouched:

- ``anyOf``/``oneOf`` with a ``{"type": "null"}`` member, and ``type: [T, "null"]`` →
  ``nullable: true`` (on each typed member when several are left; a lone ``$ref`` left
  becomes ``allOf: [$ref]`` beside ``nullable``, the usual 3.0 spelling, which strict
  3.0 validators read as not accepting null);
- ``type: [T1, T2]`` → ``anyOf`` of the types; ``const`` → a one-value ``enum``;
- numeric ``exclusiveMinimum``/``exclusiveMaximum`` → ``minimum``/``maximum`` plus the
  boolean; ``examples: [...]`` → ``example`` (the first);
- ``contentMediaType``/``contentEncoding`` → ``format: binary``/``byte``;
- ``$ref`` with siblings → ``allOf: [{$ref}]`` with the siblings (3.0 ignores siblings);
- keywords 3.0 has no equivalent of (``$schema``, ``prefixItems``, ``if``…) are dropped;
- at the top: ``openapi: 3.0.3``; ``jsonSchemaDialect``, ``webhooks``, ``info.summary``
  (folded into the description) and ``license.identifier`` go.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["OPENAPI_30", "schema_to_30", "to_openapi30"]

OPENAPI_30 = "3.0.3"
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: JSON Schema keywords with no OpenAPI 3.0 equivalent: dropped (the schema gets looser)
_DROPPED = (
    "$schema",
    "$id",
    "$anchor",
    "$comment",
    "$defs",
    "$dynamicRef",
    "$dynamicAnchor",
    "contains",
    "minContains",
    "maxContains",
    "prefixItems",
    "unevaluatedItems",
    "unevaluatedProperties",
    "dependentRequired",
    "dependentSchemas",
    "propertyNames",
    "patternProperties",
    "if",
    "then",
    "else",
    "contentSchema",
)
#: keywords whose value is one schema / a list of schemas / a name → schema map
_ONE = ("items", "not", "additionalProperties")
_MANY = ("allOf", "anyOf", "oneOf")
_MAP = ("properties",)


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null" and len(schema) == 1


def _merge(target: dict[str, Any], member: dict[str, Any]) -> None:
    """``member``'s keywords into ``target`` (``target``'s own title etc. win)."""
    if "$ref" in member:
        target["allOf"] = [member]
        return
    for key, value in member.items():
        target.setdefault(key, value)


def _nullable_union(schema: dict[str, Any]) -> None:
    for key in ("anyOf", "oneOf"):
        members = schema.get(key)
        if not isinstance(members, list) or not any(_is_null(m) for m in members):
            continue
        rest = [m for m in members if not _is_null(m)]
        schema["nullable"] = True
        del schema[key]
        if len(rest) == 1 and isinstance(rest[0], dict):
            _merge(schema, rest[0])
        elif rest:  # 3.0's nullable counts only beside a type: say it in each member
            schema[key] = [_nullable(m) for m in rest]


def _nullable(member: Any) -> Any:
    if isinstance(member, dict) and "type" in member:
        return {**member, "nullable": True}
    return member


def _type_list(schema: dict[str, Any]) -> None:
    types = schema.get("type")
    if isinstance(types, list):
        kept = [t for t in types if t != "null"]
        if len(kept) < len(types):
            schema["nullable"] = True
        if len(kept) == 1:
            schema["type"] = kept[0]
        else:
            del schema["type"]
            if kept:
                nullable = {"nullable": True} if len(kept) < len(types) else {}
                schema["anyOf"] = [{"type": t, **nullable} for t in kept]
    elif types == "null":  # only null: 3.0 can say it with an enum
        del schema["type"]
        schema["nullable"] = True
        schema["enum"] = [None]


def _keywords(schema: dict[str, Any]) -> None:
    if "const" in schema:
        schema["enum"] = [schema.pop("const")]
    for key, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = schema.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            schema[bound] = value
            schema[key] = True
    if "examples" in schema:
        examples = schema.pop("examples")
        if isinstance(examples, list) and examples and "example" not in schema:
            schema["example"] = examples[0]
    media = schema.pop("contentMediaType", None)
    encoding = schema.pop("contentEncoding", None)
    if schema.get("type") == "string" and "format" not in schema:
        if encoding == "base64":
            schema["format"] = "byte"
        elif media is not None:
            schema["format"] = "binary"
    for key in _DROPPED:
        schema.pop(key, None)


def schema_to_30(schema: Any) -> Any:
    """A JSON Schema 2020-12 (OpenAPI 3.1) Schema Object as an OpenAPI 3.0 one (a copy)."""
    if not isinstance(schema, dict):
        return copy.deepcopy(schema)
    out = {key: copy.deepcopy(value) for key, value in schema.items()}
    _nullable_union(out)  # before the members are converted: {"type": "null"} is still there
    for key in _ONE:
        if isinstance(out.get(key), dict):
            out[key] = schema_to_30(out[key])
    for key in _MANY:
        if isinstance(out.get(key), list):
            out[key] = [schema_to_30(member) for member in out[key]]
    for key in _MAP:
        if isinstance(out.get(key), dict):
            out[key] = {name: schema_to_30(sub) for name, sub in out[key].items()}
    if isinstance(out.get("items"), list):  # a tuple: 3.0 has one schema for every item
        out["items"] = {}
    _type_list(out)
    _keywords(out)
    if "$ref" in out and len(out) > 1:
        ref = out.pop("$ref")
        out.setdefault("allOf", []).insert(0, {"$ref": ref})
    return out


def _content(content: dict[str, Any]) -> dict[str, Any]:
    return {media: _with_schema(entry) for media, entry in content.items()}


def _with_schema(holder: dict[str, Any]) -> dict[str, Any]:
    """A Parameter, Header or Media Type Object with its ``schema`` (and nested content)
    converted; everything else (examples, descriptions) is copied as it is."""
    out = copy.deepcopy(holder)
    if "schema" in holder:
        out["schema"] = schema_to_30(holder["schema"])
    if isinstance(holder.get("content"), dict):
        out["content"] = _content(holder["content"])
    if isinstance(holder.get("headers"), dict):
        out["headers"] = {name: _with_schema(h) for name, h in holder["headers"].items()}
    return out


def _operation(operation: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(operation)
    if "parameters" in operation:
        out["parameters"] = [_with_schema(p) for p in operation["parameters"]]
    if "requestBody" in operation:
        out["requestBody"] = _with_schema(operation["requestBody"])
    if "responses" in operation:
        out["responses"] = {
            code: _with_schema(response) for code, response in operation["responses"].items()
        }
    return out


def _path_item(item: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(item)
    for method in _HTTP_METHODS:
        if method in item:
            out[method] = _operation(item[method])
    if "parameters" in item:
        out["parameters"] = [_with_schema(p) for p in item["parameters"]]
    return out


def _components(components: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(components)
    out.pop("pathItems", None)
    if "schemas" in components:
        out["schemas"] = {name: schema_to_30(s) for name, s in components["schemas"].items()}
    for key in ("parameters", "headers", "requestBodies", "responses"):
        if key in components:
            out[key] = {name: _with_schema(c) for name, c in components[key].items()}
    return out


def to_openapi30(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI 3.1 ``document`` rewritten as OpenAPI 3.0.3 (the input is unchanged)."""
    out = copy.deepcopy(document)
    out["openapi"] = OPENAPI_30
    out.pop("jsonSchemaDialect", None)
    out.pop("webhooks", None)
    info = out.get("info", {})
    summary = info.pop("summary", None)
    if summary:
        info["description"] = (
            f"{summary}\n\n{info['description']}" if info.get("description") else summary
        )
    if isinstance(info.get("license"), dict):
        info["license"].pop("identifier", None)
    out["paths"] = {path: _path_item(item) for path, item in document.get("paths", {}).items()}
    if "components" in document:
        out["components"] = _components(document["components"])
    return out
