"""Request bodies: an empty body means `{}` (the SDK sends 0 bytes with a JSON content type)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def data_of(body: BaseModel | None) -> dict[str, Any]:
    """The fields the client actually sent (explicit nulls included)."""
    return body.model_dump(exclude_unset=True) if body is not None else {}
