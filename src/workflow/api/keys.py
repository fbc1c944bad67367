"""SSH keys (spec §3.12)."""

from __future__ import annotations

from fastapi import Body, Request
from fastapi.responses import Response

from .. import repositories as repo
from ..deps import CurrentUser, SessionDep
from ..schemas import KeyIn, KeyOut, Page
from ..services import keys
from .body import data_of
from .pagination import paged
from .wire import DeisRouter

router = DeisRouter(prefix="/v2/keys", tags=["keys"])


@router.get("/", response_model=Page[KeyOut], operation_id="keys_list")
async def list_keys(request: Request, session: SessionDep, user: CurrentUser):
    """The caller's SSH keys."""
    return await paged(request, session, repo.keys_query(user.username), lambda rows: [KeyOut.of(k) for k in rows])


@router.post("/", status_code=201, response_model=KeyOut, operation_id="keys_create")
async def add_key(session: SessionDep, user: CurrentUser, body: KeyIn | None = Body(None)):
    """Add an SSH public key (`{id, public}`)."""
    return KeyOut.of(await keys.add(session, user, data_of(body)))


@router.get("/{key_id}", response_model=KeyOut, operation_id="keys_get")
async def get_key(key_id: str, session: SessionDep, user: CurrentUser):
    """One of the caller's SSH keys."""
    return KeyOut.of(await keys.get(session, user, key_id))


@router.delete("/{key_id}", status_code=204, response_class=Response, operation_id="keys_delete")
async def remove_key(key_id: str, session: SessionDep, user: CurrentUser):
    """Remove one of the caller's SSH keys."""
    await keys.remove(session, user, key_id)
    return Response(status_code=204)
