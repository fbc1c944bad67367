"""HTTP client for the Workflow controller (API v2.3).

Requests look like the Go SDK's (`controller-sdk-go/http.go`): `Content-Type: application/json` on every
request, `Authorization: token <key>`, paged lists as `path?limit=N`. Every non-2xx answer is turned into
the SDK's CLI text in one place, `error_message` (spec §1.7 "SDK mapping").
"""

from __future__ import annotations

import json

from cli import __version__, http, output
from cli.errors import CLIError
from cli.profile import Profile

API_VERSION = "2.3"
USER_AGENT = f"Deis Client v{__version__}"

_BLANK = "This field may not be blank."
_INVALID_USER = "Enter a valid username. This value may contain only letters, numbers and @/./+/-/_ characters."
_INVALID_NAME = "Can only contain a-z (lowercase), 0-9 and hyphens"

# (field, accepted messages, exact match?, CLI text) in the SDK's order of checking.
_FIELD_ERRORS: list[tuple[str, tuple[str, ...], bool, str]] = [
    ("username", (_BLANK, _INVALID_USER), True, _INVALID_USER),
    ("username", ("A user with that username already exists.",), True, "A user with that username already exists."),
    ("password", (_BLANK,), True, "A Password is required"),
    (
        "non_field_errors",
        ("Unable to log in with provided credentials.",),
        True,
        "Unable to log in with provided credentials.",
    ),
    (
        "id",
        ("App name can only contain a-z (lowercase), 0-9 and hyphens",),
        True,
        "App name can only contain a-z (lowercase), 0-9 and hyphens",
    ),
    ("id", ("Application with this id already exists.",), True, "Application with this id already exists."),
    ("key", (_BLANK,), True, "A key is required"),
    ("key", ("Public Key is already in use",), True, "Public Key is already in use"),
    ("public", (_BLANK, "Key contains invalid base64 chars"), True, "A key is required"),
    ("certificate", (_BLANK, "Could not load certificate"), False, "Could not load certificate"),
    ("name", (_BLANK, _INVALID_NAME), True, "Name can only contain a-z (lowercase), 0-9 and hyphens"),
    ("domain", ("Hostname does not look valid.",), True, "Hostname does not look valid."),
    (
        "domain",
        ("Domain is already in use by another application",),
        True,
        "Domain is already in use by another application",
    ),
    ("image", (_BLANK,), True, "The given image is invalid"),
    ("id", (_BLANK,), True, "An id is required"),
    ("email", ("Enter a valid email address.",), True, "Enter a valid email address."),
]

_warned = False


def _unknown(status: int, message: str) -> str:
    return f"Unknown Error ({status}): " + message.replace("\\n", "\n")


def _decode_object(status: int, body: str) -> dict | str:
    """The body as a JSON object, or the SDK's 'Unknown Error' text when it is not one."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        return _unknown(status, f"error decoding json response ({exc}): {body}")
    if not isinstance(data, dict):
        return _unknown(status, f"error decoding json response (not a JSON object): {body}")
    return data


def _field_messages(data: dict, field: str) -> list[str]:
    value = data.get(field)
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str)]


def error_message(status: int, body: str) -> str:
    """The text the Workflow CLI prints for an error answer (SDK `errors.go checkForErrors`)."""
    if status == 400:
        data = _decode_object(status, body)
        if isinstance(data, str):
            return data
        for field, messages, exact, text in _FIELD_ERRORS:
            present = _field_messages(data, field)
            for msg in messages:
                if any((p == msg) if exact else (msg in p) for p in present):
                    return text
        detail = data.get("detail")
        if isinstance(detail, str):
            if "does not exist in application" in detail:
                return "Pod not found in application"
            if "version cannot be below 0" in detail:
                return "The given version is invalid"
            if "No nodes matched the provided labels" in detail:
                return "No nodes matched the provided labels"
        return _unknown(status, body)
    if status == 401:
        return "Unauthorized: Missing or Invalid Token"
    if status == 403:
        return "You do not have permission to perform this action."
    if status == 404:
        return body if body != "" else "Not Found"
    if status == 405:
        return "Method Not Allowed"
    if status in (409, 422):
        data = _decode_object(status, body)
        if isinstance(data, str):
            return data
        detail = data.get("detail")
        if isinstance(detail, str):
            if status == 422:
                return f"Unable to process your request: {detail}"
            if "still has applications assigned. Delete or transfer ownership" in detail:
                return (
                    "Failed to delete user because the user still has applications assigned. "
                    "Delete or transfer ownership."
                )
        return _unknown(status, body)
    if status == 500:
        return "Internal Server Error"
    return _unknown(status, body)


def api_version_mismatch(server: str | None) -> bool:
    """SDK `utils.go`: same major, server minor >= client minor compared as strings."""
    if not server:
        return True
    s_parts = server.split(".")
    c_parts = API_VERSION.split(".")
    if len(s_parts) < 2:
        return True
    return s_parts[0] != c_parts[0] or s_parts[1] < c_parts[1]


def check_api_version(response: http.Response | http.StreamResponse) -> None:
    global _warned
    server = response.headers.get("DEIS_API_VERSION")
    if api_version_mismatch(server) and not _warned:
        _warned = True
        output.api_mismatch_warning(API_VERSION, server or "")


def reset_warning() -> None:
    global _warned
    _warned = False


class Client:
    """One controller, one token. Methods return decoded JSON (or text) and raise CLIError."""

    def __init__(self, controller: str, token: str = "", ssl_verify: bool = True, limit: int = 100):
        self.controller = controller.rstrip("/")
        self.token = token
        self.limit = limit
        self.ssl_verify = ssl_verify
        self._http = http.Client(self.controller, verify=ssl_verify)

    @classmethod
    def from_profile(cls, profile: Profile) -> Client:
        return cls(profile.controller, profile.token, profile.ssl_verify, profile.limit)

    @property
    def host(self) -> str:
        from urllib.parse import urlsplit

        return urlsplit(self.controller).netloc

    def _headers(self, auth: bool = True) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if auth and self.token:
            headers["Authorization"] = f"token {self.token}"
        return headers

    def _connection_error(self, exc: Exception) -> CLIError:
        return CLIError(
            f"could not reach the controller at {self.controller}: {exc}\n"
            "Make sure that the Controller URI is correct and the server is running."
        )

    def raw(
        self, method: str, path: str, body: object = None, params: dict | None = None, auth: bool = True
    ) -> http.Response:
        """Send one request; no error mapping."""
        content = None if body is None else json.dumps(body).encode()
        try:
            return self._http.request(method, path, self._headers(auth), content, params)
        except http.InvalidURL as exc:
            raise CLIError(f"{self.controller} is not a valid controller URL: {exc}") from None
        except http.HTTPError as exc:
            raise self._connection_error(exc) from None

    def request(
        self, method: str, path: str, body: object = None, params: dict | None = None, auth: bool = True
    ) -> http.Response:
        """Send one request, warn on an API version mismatch, raise the SDK text on errors."""
        response = self.raw(method, path, body, params, auth)
        check_api_version(response)
        if not 200 <= response.status_code < 400:
            raise CLIError(error_message(response.status_code, response.text))
        return response

    def get(self, path: str, params: dict | None = None):
        return _json(self.request("GET", path, params=params))

    def post(self, path: str, body: object = None):
        return _json(self.request("POST", path, body))

    def delete(self, path: str, body: object = None):
        return _json(self.request("DELETE", path, body))

    def paged(self, path: str, limit: int | None = None) -> tuple[list, int, str]:
        """GET `path?limit=N` → (results, count, raw body)."""
        response = self.request("GET", path, params={"limit": limit or self.limit})
        data = _json(response)
        if not isinstance(data, dict):
            raise CLIError(f"unexpected answer from the controller: {response.text}")
        return list(data.get("results") or []), int(data.get("count") or 0), response.text

    def stream_lines(self, path: str, params: dict | None = None):
        """GET a chunked text response and yield it line by line as it arrives."""
        try:
            with self._http.stream("GET", path, self._headers(), params) as response:
                check_api_version(response)
                if not 200 <= response.status_code < 400:
                    response.read()
                    raise CLIError(error_message(response.status_code, response.text))
                yield from response.iter_lines()
        except http.InvalidURL as exc:
            raise CLIError(f"{self.controller} is not a valid controller URL: {exc}") from None
        except http.HTTPError as exc:
            raise self._connection_error(exc) from None

    def check_connection(self) -> None:
        """`GET /v2/` without credentials must answer 401 (SDK `CheckConnection`)."""
        response = self.raw("GET", "/v2/", auth=False)
        if response.status_code != 401:
            raise CLIError(
                f"{self.controller} does not appear to be a valid Deis controller.\n"
                "Make sure that the Controller URI is correct, the server is running and\n"
                "your deis version is correct."
            )
        check_api_version(response)

    def close(self) -> None:
        self._http.close()


def _json(response: http.Response):
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text
