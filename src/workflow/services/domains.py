"""Custom domains: stored in ACE form, routed by the router before the call returns.

A name routes to exactly one app. Inside the platform domain an app owns `APP.DOMAIN` and the names under it
(its own default host is its domains row holding the bare app id); outside it, a name belongs to the app that
added it first, and a wildcard belongs with the names it covers: no app may add a name another app's wildcard
covers, nor a wildcard over another app's names (nginx prefers an exact name to a wildcard, so either would
take the other app's traffic). No wildcard over a public suffix (`*.com`) or over the platform domain.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.hostnames import (
    HostnameError,
    PublicSuffixes,
    covering_wildcards,
    normalize_domain,
    ownership_error,
)
from ..errors import FieldErrors, NotFound
from ..models import App, Domain, User
from .routing import commit_and_sync

log = logging.getLogger("workflow.domains")

IN_USE = "The domain {} is already in use by another app"
_suffixes: dict[Path, PublicSuffixes] = {}
# Adding a domain reads the names in use, then writes one: serialised in this process so two additions that
# overlap (a wildcard and a name under it) cannot both pass their checks. The unique index on domains.domain
# holds the same name across processes.
_adding = asyncio.Lock()


def _load(path: Path) -> PublicSuffixes:
    try:
        return PublicSuffixes.parse(path.read_text(encoding="utf-8"))
    except OSError as exc:
        log.error("public suffix list %s unreadable (%s): wildcard domains are refused "
                  "(install Debian's publicsuffix package)", path, exc)
        return PublicSuffixes(available=False)


async def public_suffixes(path: Path) -> PublicSuffixes:
    """The list at `path`, read once per process (in a thread: 0.1 s of parsing)."""
    if path not in _suffixes:
        _suffixes[path] = await asyncio.to_thread(_load, path)
    return _suffixes[path]


def _like_suffix(name: str) -> str:
    return "%." + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def _taken(session: AsyncSession, app: App, ace: str) -> str | None:
    """Why names of another app collide with `ace` (a custom domain `ownership_error` accepted), or None."""
    found = await session.scalar(select(Domain.app_id).where(Domain.domain == ace))
    if found is not None:
        return IN_USE.format(ace) if found != app.id else f"The domain {ace} is already in use by this app"
    name = ace[2:] if ace.startswith("*.") else ace
    covering = await session.scalar(select(Domain.domain).where(
        Domain.domain.in_(covering_wildcards(name)), Domain.app_id != app.id).limit(1))
    if covering is not None:
        return f"The domain {ace} is covered by a wildcard domain of another app"
    if ace.startswith("*."):  # `*.example.org` matches every name under example.org (not example.org itself)
        covered = await session.scalar(select(Domain.domain).where(
            Domain.app_id != app.id, Domain.domain.like(_like_suffix(name), escape="\\")).limit(1))
        if covered is not None:
            return f"The domain {ace} covers names in use by another app"
    return None


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
    settings = ctx.settings
    problem = ownership_error(ace, app.id, settings.domain, await public_suffixes(settings.public_suffix_list))
    if problem:
        raise FieldErrors.one("domain", problem)
    async with _adding:
        problem = await _taken(session, app, ace)
        if problem:
            raise FieldErrors.one("domain", problem)
        domain = Domain(app_id=app.id, owner=user.username, domain=ace)
        session.add(domain)
        try:
            await session.commit()
        except IntegrityError as exc:  # added by another controller process in between
            await session.rollback()
            raise FieldErrors.one("domain", IN_USE.format(ace)) from exc
    await commit_and_sync(session, ctx, app.id)  # the router's write outside the lock
    return domain


async def app_name_error(session: AsyncSession, app_id: str, platform_domain: str) -> str | None:
    """Why a new app may not be called `app_id`: its host is a custom domain of another app (one added before
    custom domains inside the platform domain were refused), or None."""
    host = f"{app_id}.{platform_domain}"
    found = await session.scalar(select(Domain.domain).where(
        Domain.domain.in_([app_id, host, *covering_wildcards(host)])).limit(1))
    return None if found is None else f"The name {host} is already in use by another app's domain."


async def remove(session: AsyncSession, ctx, app: App, value: str) -> None:
    try:
        ace = normalize_domain(value)
    except HostnameError:
        ace = value
    domain = await session.scalar(select(Domain).where(Domain.app_id == app.id, Domain.domain.in_([ace, value])))
    if domain is None:
        raise NotFound("Domain")
    await session.delete(domain)
    await commit_and_sync(session, ctx, app.id)
