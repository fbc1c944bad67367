"""Wire conventions shared by every route (spec §1): both slash spellings, version headers,
Deis error shapes, DRF pagination, `//` collapsing."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, RootModel
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..domain.validation import valid_unicode
from ..errors import DatabaseUnavailable, WorkflowError, first_line

log = logging.getLogger("workflow.api")

API_VERSION = "2.3"
PLATFORM_VERSION = "2.3.0"
VERSION_HEADERS = {"DEIS_API_VERSION": API_VERSION, "DEIS_PLATFORM_VERSION": PLATFORM_VERSION}
DEFAULT_PAGE_SIZE = 100
MAX_SQL_INT = 2**63 - 1  # the largest integer SQLite and PostgreSQL (bigint) hold


# --- error shapes, as declared in the OpenAPI schema (spec §1.7) ---------------------------------


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


LONE_SURROGATE = ("JSON parse error - strings must be valid Unicode: a lone surrogate escape "
                  "(\\ud800 to \\udfff) is not")


NULL_CHARACTERS = "Null characters are not allowed."  # DRF's CharField (ProhibitNullCharactersValidator)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def body_refusal(body: bytes) -> WorkflowError | None:
    """Strings no database holds: a lone surrogate (JSON allows `"\\ud800"`) or a NUL character, which
    PostgreSQL refuses in text and jsonb. Both only get into JSON as `\\u` escapes."""
    if b"\\u" not in body:
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None  # FastAPI reports the parse error
    if not valid_unicode(value):
        return WorkflowError({"detail": LONE_SURROGATE}, 400)
    if isinstance(value, dict):
        fields = [str(key) for key, item in value.items() if _has_nul(key) or _has_nul(item)]
        if fields:
            return WorkflowError({field: [NULL_CHARACTERS] for field in fields}, 400)
    elif _has_nul(value):
        return WorkflowError({"non_field_errors": [NULL_CHARACTERS]}, 400)
    return None


class DeisRoute(APIRoute):
    """Refuses input no database can hold before FastAPI parses it: path parameters with a NUL
    character (no object is named so: 404) and JSON bodies with NUL or lone surrogates (400)."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            if any("\x00" in str(value) for value in request.path_params.values()):
                raise WorkflowError({"detail": "Not found."}, 404)
            refusal = body_refusal(await request.body())
            if refusal is not None:
                raise refusal
            return await handler(request)

        return handle


class DeisRouter(APIRouter):
    """Registers every route under both spellings, with and without the trailing slash, so no
    client is ever redirected (upstream's `/?$` patterns). Only the spelling the SDK sends
    appears in the OpenAPI schema, with the Deis error shapes declared, and one operation id per
    method (`<id>` for GET, `<id>_head` for HEAD when a route answers both)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", DeisRoute)
        super().__init__(*args, **kwargs)

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        kwargs["responses"] = declared_responses(self.prefix + path, kwargs.get("response_class"),
                                                 kwargs.get("responses"))
        if is_page(kwargs.get("response_model")):
            # Read leniently by page_params (DRF), so declared here rather than as validated parameters.
            extra = kwargs.get("openapi_extra") or {}
            kwargs["openapi_extra"] = {**extra, "parameters": [*extra.get("parameters", []), *PAGE_PARAMETERS]}
        methods = [m.upper() for m in kwargs.get("methods") or ()]
        if kwargs.get("operation_id") and len(methods) > 1 and "GET" in methods and "HEAD" in methods:
            for method in methods:
                suffix = "" if method == "GET" else f"_{method.lower()}"
                self._add_both(path, endpoint, **{**kwargs, "methods": [method],
                                                  "operation_id": kwargs["operation_id"] + suffix})
            return
        self._add_both(path, endpoint, **kwargs)

    def _add_both(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, endpoint, **kwargs)
        other = path[:-1] if path.endswith("/") else path + "/"
        hidden = {**kwargs, "include_in_schema": False}
        hidden.pop("operation_id", None)
        super().add_api_route(other, endpoint, **hidden)


class WireMiddleware:
    """Pure ASGI: collapses a leading `//` and puts the version headers on every response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("//"):
            scope = {**scope, "path": "/" + path.lstrip("/"), "raw_path": None}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if not k.lower().startswith(b"deis_")]
                headers += [(b"DEIS_API_VERSION", API_VERSION.encode()),
                            (b"DEIS_PLATFORM_VERSION", PLATFORM_VERSION.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def error_response(status: int, body: Any, extra_headers: dict[str, str] | None = None) -> Response:
    headers = {**VERSION_HEADERS, **(extra_headers or {})}
    if status == 401:
        headers["WWW-Authenticate"] = "Token"
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_body(exc: RequestValidationError) -> tuple[int, Any]:
    errors: dict[str, list[str]] = {}
    for err in exc.errors():
        kind = err.get("type", "")
        if kind == "json_invalid":
            reason = err.get("ctx", {}).get("error", "") or err.get("msg", "")
            return 400, {"detail": f"JSON parse error - {reason}"}
        loc = [str(part) for part in err.get("loc", ()) if part != "body"]
        if not loc:
            return 400, {"non_field_errors": ["Invalid data. Expected a dictionary, but got "
                                              f"{type(err.get('input')).__name__}."]}
        field = loc[0]
        if kind == "missing":
            message = "This field is required."
        elif kind.startswith("string"):
            message = "Not a valid string."
        elif kind.startswith("bool"):
            message = f'"{err.get("input")}" is not a valid boolean.'
        elif kind.startswith("int"):
            message = "A valid integer is required."
        else:
            message = err.get("msg", "Invalid value.")
        errors.setdefault(field, []).append(message)
    return 400, errors


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(WorkflowError)
    async def _workflow_error(_request: Request, exc: WorkflowError) -> Response:
        return error_response(exc.status_code, exc.body, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> Response:
        status, body = _validation_body(exc)
        return error_response(status, body)

    async def _database_unavailable(_request: Request, exc: Exception) -> Response:
        # Stopped, restarting, network gone: a 503 the client may retry, not a 500. Running apps do not
        # notice (the router and the containers do not need the database).
        log.warning("database unavailable: %s", first_line(exc))
        return error_response(503, DatabaseUnavailable().body)

    for kind in (OperationalError, InterfaceError):
        app.add_exception_handler(kind, _database_unavailable)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            return error_response(405, {"detail": f'Method "{request.method}" not allowed.'})
        if exc.status_code == 404:
            return error_response(404, {"detail": "Not found."})
        return error_response(exc.status_code, {"detail": exc.detail})

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> Response:
        log.exception("unexpected error", exc_info=exc)
        return error_response(500, {"detail": "Server Error"})


# --- pagination -------------------------------------------------------------------------------

PAGE_PARAMETERS = [
    {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1},
     "description": f"Items per page (default {DEFAULT_PAGE_SIZE}; a non-numeric or non-positive value means "
                    f"the default)."},
    {"name": "offset", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0},
     "description": "Items to skip; `next` and `previous` in the answer carry the neighbouring pages."},
]


def is_page(model: Any) -> bool:
    """A `Page[...]` answer (DRF LimitOffsetPagination envelope)."""
    fields = getattr(model, "model_fields", {})
    return {"count", "next", "previous", "results"} <= set(fields)


def page_params(request: Request) -> tuple[int, int]:
    """DRF LimitOffsetPagination: a missing, non-numeric or non-positive limit means 100."""

    def as_int(name: str, default: int) -> int:
        try:
            return int(request.query_params.get(name, default))
        except ValueError:
            return default

    limit = as_int("limit", DEFAULT_PAGE_SIZE)
    offset = max(as_int("offset", 0), 0)
    # both reach SQL as 64-bit integers: beyond that a page is empty (offset) or everything (limit)
    return min(limit if limit > 0 else DEFAULT_PAGE_SIZE, MAX_SQL_INT), min(offset, MAX_SQL_INT)


def page_body(request: Request, count: int, results: Sequence[Any], limit: int, offset: int) -> dict:
    def link(new_offset: int) -> str:
        query = dict(request.query_params)
        query["limit"] = str(limit)
        if new_offset > 0:
            query["offset"] = str(new_offset)
        else:
            query.pop("offset", None)
        return f"{str(request.url).split('?')[0]}?{urlencode(query)}"

    nxt = link(offset + limit) if offset + limit < count else None
    prev = link(max(offset - limit, 0)) if offset > 0 else None
    return {"count": count, "next": nxt, "previous": prev, "results": list(results)}


def empty(status: int) -> Response:
    """Upstream's 200/201 answers without data have an empty body."""
    return Response(status_code=status, content=b"", media_type="application/json")


def plain(text: str, status: int = 200) -> Response:
    return Response(content=text, status_code=status, media_type="text/plain")


def json_dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
