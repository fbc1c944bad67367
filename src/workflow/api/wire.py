"""Wire conventions shared by every route (spec §1): both slash spellings, version headers, `//` collapsing,
bodies no database holds refused before parsing. Error shapes: `errors.py` (rendering) and `openapi.py`
(declaring); pagination: `pagination.py`."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..domain.validation import valid_unicode
from ..errors import WorkflowError
from .openapi import declared_responses
from .pagination import PAGE_PARAMETERS, is_page

log = logging.getLogger("workflow.api")

API_VERSION = "2.3"
PLATFORM_VERSION = "2.3.0"
VERSION_HEADERS = {"DEIS_API_VERSION": API_VERSION, "DEIS_PLATFORM_VERSION": PLATFORM_VERSION}


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


def empty(status: int) -> Response:
    """Upstream's 200/201 answers without data have an empty body."""
    return Response(status_code=status, content=b"", media_type="application/json")


def plain(text: str, status: int = 200) -> Response:
    return Response(content=text, status_code=status, media_type="text/plain")


def json_dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
