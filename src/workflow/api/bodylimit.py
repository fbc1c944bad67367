"""A bound on request bodies, enforced before anything parses or authenticates the request.

nginx refuses larger bodies on the API host already (`client_max_body_size`); this holds the same limit
when uvicorn is reached without it (no router, or the unix socket directly). A body is read into memory
at most up to the limit, then handed on unchanged.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response


def too_large_detail(max_bytes: int) -> str:
    return f"Request body is too large: at most {max_bytes} bytes are accepted."


class BodyLimitMiddleware:
    """Pure ASGI: a body over `max_bytes` (declared by Content-Length or counted as it arrives) is a 413
    in the Deis error shape, and the application never sees the request."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", ()):
            if key == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away before its body was complete
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:  # chunked, or a Content-Length that lied
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # later calls: the disconnect a streaming response waits for

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, {"detail": too_large_detail(self.max_bytes)})
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)
