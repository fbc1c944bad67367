"""DRF LimitOffsetPagination, as the Deis clients read it: `?limit=&offset=` read leniently, the
`{"count", "next", "previous", "results"}` envelope, and `paged`, what every list route answers with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from .. import repositories as repo

DEFAULT_PAGE_SIZE = 100
MAX_SQL_INT = 2**63 - 1  # the largest integer SQLite and PostgreSQL (bigint) hold

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


async def paged(request: Request, session: AsyncSession, query: Any,
                shape: Callable[[Sequence[Any]], Awaitable[list[Any]] | list[Any]]) -> dict:
    """The page of `query` the request asks for, each row shaped for the wire by `shape` (which may await,
    to read what the rows need in one query)."""
    limit, offset = page_params(request)
    count, rows = await repo.page(session, query, limit, offset)
    results = shape(rows)
    if not isinstance(results, list):
        results = await results
    return page_body(request, count, results, limit, offset)
