"""Domains (spec §3.9)."""

from __future__ import annotations

from fastapi import Body, Request
from fastapi.responses import Response

from .. import repositories as repo
from ..deps import AppDep, CtxDep, CurrentUser, SessionDep, require_owner_or_admin
from ..schemas import DomainIn, DomainOut, Page
from ..services import domains
from .body import data_of
from .pagination import paged
from .wire import DeisRouter

router = DeisRouter(prefix="/v2/apps/{id}/domains", tags=["domains"])


@router.get("/", response_model=Page[DomainOut], operation_id="domains_list")
async def list_domains(request: Request, app: AppDep, session: SessionDep):
    """The app's domains (a bare name is `<name>.<platform domain>`)."""
    return await paged(request, session, repo.domains_query(app.id), lambda rows: [DomainOut.of(d) for d in rows])


@router.post("/", status_code=201, response_model=DomainOut, operation_id="domains_create")
async def add_domain(app: AppDep, session: SessionDep, ctx: CtxDep, user: CurrentUser,
                     body: DomainIn | None = Body(None)):
    """Route a custom domain to the app."""
    return DomainOut.of(await domains.add(session, ctx, app, user, data_of(body)))


@router.delete("/{domain}", status_code=204, response_class=Response, operation_id="domains_delete")
async def remove_domain(domain: str, app: AppDep, session: SessionDep, ctx: CtxDep, user: CurrentUser):
    """Stop routing a domain to the app."""
    require_owner_or_admin(app, user)
    await domains.remove(session, ctx, app, domain)
    return Response(status_code=204)
