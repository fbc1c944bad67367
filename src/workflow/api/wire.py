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
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import WorkflowError

log = logging.getLogger("workflow.api")

API_VERSION = "2.3"
PLATFORM_VERSION = "2.3.0"
VERSION_HEADERS = {"DEIS_API_VERSION": API_VERSION, "DEIS_PLATFORM_VERSION": PLATFORM_VERSION}
DEFAULT_PAGE_SIZE = 100


class DeisRouter(APIRouter):
    """Registers every route under both spellings, with and without the trailing slash, so no
    client is ever redirected (upstream's `/?$` patterns). Only the spelling the SDK sends
    appears in the OpenAPI schema."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
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


def error_response(status: int, body: Any) -> Response:
    headers = dict(VERSION_HEADERS)
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
        return error_response(exc.status_code, exc.body)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> Response:
        status, body = _validation_body(exc)
        return error_response(status, body)

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


def page_params(request: Request) -> tuple[int, int]:
    """DRF LimitOffsetPagination: a missing, non-numeric or non-positive limit means 100."""

    def as_int(name: str, default: int) -> int:
        try:
            return int(request.query_params.get(name, default))
        except ValueError:
            return default

    limit = as_int("limit", DEFAULT_PAGE_SIZE)
    offset = max(as_int("offset", 0), 0)
    return (limit if limit > 0 else DEFAULT_PAGE_SIZE), offset


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
