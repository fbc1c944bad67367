"""Pure field checks with Deis' own messages (no I/O)."""

from __future__ import annotations

import json
import re
from typing import Any

REQUIRED = "This field is required."
BLANK = "This field may not be blank."
NOT_A_STRING = "Not a valid string."
USERNAME_TEXT = ("Enter a valid username. This value may contain only letters, numbers and @/./+/-/_ "
                 "characters.")
USERNAME_RE = re.compile(r"[\w.@+-]+")
# A key id is the key's comment (`user@host`, spaces allowed), used in URL paths: no control characters
# (a newline), no slash.
KEY_ID_RE = re.compile(r"[^\x00-\x1f\x7f/]+")
KEY_ID_TEXT = "Key ids cannot contain control characters or slashes."
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def valid_unicode(value: Any) -> bool:
    """False when a string in a decoded JSON value holds a lone surrogate (JSON allows `"\\ud800"`):
    no database, password hash or UTF-8 response can hold one."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def loads_json(text: str | bytes) -> Any:
    """`json.loads` that also refuses (ValueError) lone surrogates."""
    value = json.loads(text)
    if not valid_unicode(value):
        raise ValueError("strings must be valid Unicode, without lone surrogate escapes")
    return value


def required_string(errors: dict[str, list[str]], data: dict[str, Any], field: str,
                    max_length: int | None = None) -> str | None:
    """DRF CharField(required=True): missing, null, blank, too long, not a string."""
    if field not in data or data[field] is None:
        errors.setdefault(field, []).append(REQUIRED if field not in data else "This field may not be null.")
        return None
    value = data[field]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        errors.setdefault(field, []).append(NOT_A_STRING)
        return None
    value = str(value)
    if not value.strip():
        errors.setdefault(field, []).append(BLANK)
        return None
    if max_length is not None and len(value) > max_length:
        errors.setdefault(field, []).append(f"Ensure this field has no more than {max_length} characters.")
        return None
    return value


def optional_string(errors: dict[str, list[str]], data: dict[str, Any], field: str,
                    max_length: int) -> str:
    value = data.get(field)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        errors.setdefault(field, []).append(NOT_A_STRING)
        return ""
    value = str(value)
    if len(value) > max_length:
        errors.setdefault(field, []).append(f"Ensure this field has no more than {max_length} characters.")
    return value


def username_errors(username: str) -> list[str]:
    return [] if USERNAME_RE.fullmatch(username) else [USERNAME_TEXT]


def email_valid(email: str) -> bool:
    return bool(EMAIL_RE.fullmatch(email))
