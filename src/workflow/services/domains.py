"""Custom domains: stored in ACE form, routed by the router before the call returns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.hostnames import HostnameError, normalize_domain
from ..errors import FieldErrors, NotFound
from ..models import App, Domain, User
from .routing import commit_and_sync


async def add(session: AsyncSession, ctx, app: App, user: User, data: dict[str, Any]) -> Domain:
    value = data.get("domain")
    if "domain" not in data:
        raise FieldErrors.one("domain", "This field is required.")
    if not isinstance(value, str) or not value.strip():
        raise FieldErrors.one("domain", "This field may not be blank.")
    try:
        ace = normalize_domain(value.strip())
    except HostnameError as exc:
        raise FieldErrors.one("domain", str(exc)) from exc
    if await session.scalar(select(Domain.id).where(Domain.domain == ace)) is not None:
        raise FieldErrors.one("domain", f"The domain {ace} is already in use by another app")
    domain = Domain(app_id=app.id, owner=user.username, domain=ace)
    session.add(domain)
    await commit_and_sync(session, ctx)
    return domain


async def remove(session: AsyncSession, ctx, app: App, value: str) -> None:
    try:
        ace = normalize_domain(value)
    except HostnameError:
        ace = value
    domain = await session.scalar(select(Domain).where(Domain.app_id == app.id, Domain.domain.in_([ace, value])))
    if domain is None:
        raise NotFound("Domain")
    await session.delete(domain)
    await commit_and_sync(session, ctx)
