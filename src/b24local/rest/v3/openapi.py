"""The OpenAPI 3.0 document of the REST 3.0 methods, built from the registry: a
method is in it exactly when it answers on ``/rest/api/``."""

from __future__ import annotations

from typing import Any

from b24local.rest.registry import MethodSpec, Registry

from .schema import Entity, Field

_TYPES = {"int": "integer", "bool": "boolean", "string": "string", "datetime": "string"}

_PARAMETERS: dict[str, dict[str, Any]] = {
    "filter": {
        "type": "array",
        "description": "Conditions [field, operator, value] or {logic, conditions} groups",
        "items": {},
    },
    "select": {"type": "array", "items": {"type": "string"}},
    "order": {
        "type": "object",
        "additionalProperties": {"type": "string", "enum": ["ASC", "DESC"]},
    },
    "pagination": {
        "type": "object",
        "properties": {
            "page": {"type": "integer"},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
        },
    },
    "name": {"type": "string"},
    "id": {"type": "integer"},
    "filterModule": {"type": "string"},
    "filterController": {"type": "string"},
    "filterMethod": {"type": "string"},
}

_BATCH_CALL = {
    "type": "object",
    "required": ["method"],
    "properties": {
        "method": {"type": "string"},
        "query": {"type": "object"},
        "as": {"type": "string"},
        "parallel": {"type": "boolean"},
    },
}


def _property(field: Field) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _TYPES[field.kind]}
    if field.kind == "datetime":
        schema["format"] = "date-time"
        schema["nullable"] = True
    return schema


def _entity_schema(entity: Entity) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {f.name: _property(f) for f in entity.fields},
    }


def _operation(spec: MethodSpec) -> dict[str, Any]:
    v3 = spec.v3
    assert v3 is not None
    if v3.entity is None:
        content: dict[str, Any] = {"type": "object"}
    else:
        ref = {"$ref": f"#/components/schemas/{v3.entity.name}"}
        key = "items" if v3.listing else "item"
        content = {
            "type": "object",
            "properties": {key: {"type": "array", "items": ref} if v3.listing else ref},
        }
    body: dict[str, Any] = {
        "type": "object",
        "properties": {name: _PARAMETERS.get(name, {}) for name in v3.parameters},
    }
    if v3.array_body:
        # batch: the calls at the root, and their results in order.
        body = {"type": "array", "items": _BATCH_CALL}
        content = {"type": "array", "items": {"type": "object"}}
    return {
        "post": {
            "tags": [v3.tag],
            "summary": spec.summary,
            "operationId": spec.name,
            "requestBody": {"content": {"application/json": {"schema": body}}},
            "responses": {
                "200": {
                    "description": "Success",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"result": content, "time": {"type": "object"}},
                            }
                        }
                    },
                },
                "400": {"description": "Error"},
            },
        }
    }


def document(registry: Registry) -> dict[str, Any]:
    specs = registry.v3_methods()
    tags = sorted({spec.v3.tag for spec in specs if spec.v3 is not None})
    schemas = {
        spec.v3.entity.name: _entity_schema(spec.v3.entity)
        for spec in specs
        if spec.v3 is not None and spec.v3.entity is not None
    }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Bitrix24 REST V3 API", "version": "1.0.0"},
        "tags": [{"name": tag, "description": f"{tag} module methods"} for tag in tags],
        "paths": {f"/{spec.name}": _operation(spec) for spec in specs},
        "components": {"schemas": dict(sorted(schemas.items()))},
    }
