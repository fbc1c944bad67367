"""The OpenAPI declaration of the Deis error shapes (spec §1.7), merged into every /v2 route's responses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, RootModel


class ErrorDetail(BaseModel):
    """A business-rule refusal, an authentication or permission failure, an explicit NotFound."""

    detail: str


class FieldErrors(RootModel[dict[str, list[str]]]):
    """Field validation: `{"<field>": ["msg", ...]}` (object-level errors under `non_field_errors`)."""


class NotFoundMessage(RootModel[str]):
    """A lookup miss: the bare JSON string `"No <Model> matches the given query."`."""


# Every /v2 operation may answer with these; `default` (405, 409, 422, 500, 503: all `{"detail"}`) also
# keeps FastAPI from declaring a 422 validation body this API never sends (it answers 400, see below).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorDetail | FieldErrors, "description": "Refused: `{\"detail\"}` or field errors"},
    401: {"model": ErrorDetail, "description": "Missing or invalid `Authorization: token <key>`"},
    403: {"model": ErrorDetail, "description": "Not allowed for this user"},
    404: {"model": NotFoundMessage | ErrorDetail,
          "description": "Not found: a bare JSON string for lookup misses, else `{\"detail\"}`"},
    "default": {"model": ErrorDetail, "description": "Other errors (405, 409, 422, 500, 503)"},
}
TEXT_CONTENT = {"text/plain": {"schema": {"type": "string"}}}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


# The same shapes as plain JSON schemas, for routes whose own media type is not JSON (FastAPI would
# declare a `model` under the route's media type); the /v2 JSON routes register the components.
ERROR_JSON_SCHEMAS: dict[int | str, dict[str, Any]] = {
    400: {"anyOf": [_ref(ErrorDetail), _ref(FieldErrors)]},
    401: _ref(ErrorDetail),
    403: _ref(ErrorDetail),
    404: {"anyOf": [_ref(NotFoundMessage), _ref(ErrorDetail)]},
    "default": _ref(ErrorDetail),
}


def declared_responses(full_path: str, response_class: Any, given: dict | None) -> dict[int | str, dict[str, Any]]:
    """The route's own `responses=` over the common error shapes (for /v2 routes); statuses a
    text/plain route declares without content get text/plain content."""
    text = getattr(response_class, "media_type", None) == "text/plain"
    merged: dict[int | str, dict[str, Any]] = {}
    if full_path.startswith("/v2"):
        for status, entry in ERROR_RESPONSES.items():
            merged[status] = dict(entry)
            if text:
                merged[status] = {"description": entry["description"],
                                  "content": {"application/json": {"schema": ERROR_JSON_SCHEMAS[status]}}}
    for status, entry in (given or {}).items():
        merged[status] = {**merged.get(status, {}), **entry}
    if text:
        for status, entry in merged.items():
            if str(status) not in ("204", "304") and "model" not in entry and "content" not in entry:
                entry["content"] = TEXT_CONTENT
    return merged
