"""One place that renders errors in the Deis shapes (`{"detail": …}`, `{"<field>": […]}`) with the version
headers: WorkflowError, request validation (always 400, as DRF), the database gone (503), 404/405, and
anything unexpected (500, logged)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import DatabaseUnavailable, WorkflowError, first_line
from .wire import VERSION_HEADERS

log = logging.getLogger("workflow.api")


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
