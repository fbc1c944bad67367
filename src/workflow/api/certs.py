"""TLS certificates (spec §3.10): the caller's own, attached to domains for HTTPS."""

from __future__ import annotations

from fastapi import Body, Request
from fastapi.responses import Response

from .. import repositories as repo
from ..deps import CtxDep, CurrentUser, SessionDep
from ..schemas import CertificateIn, CertificateOut, DomainIn, Page
from ..services import certs
from .body import data_of
from .pagination import paged
from .wire import DeisRouter, empty

router = DeisRouter(prefix="/v2/certs", tags=["certs"])


@router.get("/", response_model=Page[CertificateOut], operation_id="certs_list")
async def list_certs(request: Request, session: SessionDep, user: CurrentUser):
    """The caller's certificates."""

    async def shape(rows) -> list[CertificateOut]:
        domains = await certs.domains_of(session, list(rows))
        return [CertificateOut.of(c, domains[c.id]) for c in rows]

    return await paged(request, session, repo.certificates_query(user.username), shape)


@router.post("/", status_code=201, response_model=CertificateOut, operation_id="certs_create")
async def add_cert(session: SessionDep, ctx: CtxDep, user: CurrentUser, body: CertificateIn | None = Body(None)):
    """Upload a PEM certificate (chain) and its private key."""
    cert = await certs.create(session, ctx, user, data_of(body))
    return CertificateOut.of(cert, [])


@router.get("/{name}", response_model=CertificateOut, operation_id="certs_get")
async def get_cert(name: str, session: SessionDep, user: CurrentUser):
    """One of the caller's certificates."""
    cert = await certs.get(session, user, name)
    return CertificateOut.of(cert, (await certs.domains_of(session, [cert]))[cert.id])


@router.delete("/{name}", status_code=204, response_class=Response, operation_id="certs_delete")
async def remove_cert(name: str, session: SessionDep, ctx: CtxDep, user: CurrentUser):
    """Delete a certificate (detached from its domains first)."""
    await certs.remove(session, ctx, user, name)
    return Response(status_code=204)


@router.post("/{name}/domain/", status_code=201, response_class=Response, operation_id="certs_attach",
             responses={201: {"description": "attached (empty body)"}})
async def attach_cert(name: str, session: SessionDep, ctx: CtxDep, user: CurrentUser,
                      body: DomainIn | None = Body(None)):
    """Serve a domain over HTTPS with this certificate."""
    await certs.attach(session, ctx, user, name, data_of(body).get("domain"))
    return empty(201)


@router.post("/{name}/domain/{domain}", status_code=201, response_class=Response, include_in_schema=False)
async def attach_cert_in_path(name: str, domain: str, session: SessionDep, ctx: CtxDep, user: CurrentUser,
                              body: DomainIn | None = Body(None)):
    """Attach, the domain given in the path (a body `domain` wins, as upstream)."""
    await certs.attach(session, ctx, user, name, data_of(body).get("domain") or domain)
    return empty(201)


@router.delete("/{name}/domain/{domain}", status_code=204, response_class=Response, operation_id="certs_detach")
async def detach_cert(name: str, domain: str, session: SessionDep, ctx: CtxDep, user: CurrentUser):
    """Stop serving a domain with this certificate."""
    await certs.detach(session, ctx, user, name, domain)
    return Response(status_code=204)
