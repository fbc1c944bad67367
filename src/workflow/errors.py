"""Errors carry their HTTP status; one handler renders them in the Deis shapes (spec §1.7)."""

from __future__ import annotations

from typing import Any


class WorkflowError(Exception):
    status_code = 400
    headers: dict[str, str] | None = None  # extra response headers

    def __init__(self, body: Any, status_code: int | None = None):
        super().__init__(str(body))
        self.body = body
        if status_code is not None:
            self.status_code = status_code


class BadRequest(WorkflowError):
    """A business rule refused the request: 400 {"detail": msg}."""

    def __init__(self, detail: str):
        super().__init__({"detail": detail}, 400)
        self.detail = detail


class FieldErrors(WorkflowError):
    """Field validation: 400 {"<field>": ["msg", ...]}."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors, 400)
        self.errors = errors

    @classmethod
    def one(cls, field: str, message: str) -> FieldErrors:
        return cls({field: [message]})


class NotFound(WorkflowError):
    """A lookup miss: 404 with the bare JSON string Django's get_object_or_404 produced."""

    def __init__(self, model: str):
        super().__init__(f"No {model} matches the given query.", 404)


class NotFoundDetail(WorkflowError):
    def __init__(self, detail: str):
        super().__init__({"detail": detail}, 404)


class NotAuthenticated(WorkflowError):
    def __init__(self, detail: str = "Authentication credentials were not provided."):
        super().__init__({"detail": detail}, 401)


class PermissionDenied(WorkflowError):
    def __init__(self, detail: str = "You do not have permission to perform this action."):
        super().__init__({"detail": detail}, 403)


class Conflict(WorkflowError):
    def __init__(self, detail: str):
        super().__init__({"detail": detail}, 409)


class Unprocessable(WorkflowError):
    def __init__(self, detail: str):
        super().__init__({"detail": detail}, 422)


class Throttled(WorkflowError):
    """Too many attempts: 429 with DRF's message and a `Retry-After` header."""

    def __init__(self, wait: int):
        super().__init__({"detail": f"Request was throttled. Expected available in {wait} seconds."}, 429)
        self.headers = {"Retry-After": str(wait)}


class ServiceUnavailable(WorkflowError):
    def __init__(self, detail: str = "Service temporarily unavailable, try again later."):
        super().__init__({"detail": detail}, 503)


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached: nothing was changed, the client may retry."""

    def __init__(self) -> None:
        super().__init__("The database is unavailable, try again later.")


def first_line(exc: BaseException) -> str:
    """An exception's message for a one-line log entry or error detail (its type when it has none)."""
    return (str(exc).splitlines() or [type(exc).__name__])[0]
