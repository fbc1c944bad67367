"""Every select() lives here, behind intent-named functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from .models import (
    TLS,
    App,
    AppPermission,
    AppSettings,
    Build,
    Certificate,
    Config,
    Domain,
    Event,
    Key,
    Release,
    Token,
    User,
)

M = TypeVar("M")


async def page(session: AsyncSession, stmt, limit: int, offset: int) -> tuple[int, Sequence]:
    count = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = (await session.scalars(stmt.limit(limit).offset(offset))).all()
    return int(count or 0), rows


async def record_event(session: AsyncSession, app_id: str, message: str, level: str = "INFO") -> None:
    """A platform event in the app's log (`deis[controller]: INFO <message>`), kept in the database."""
    session.add(Event(app_id=app_id, message=message, level=level))


# --- users and tokens --------------------------------------------------------------------------


async def user_by_name(session: AsyncSession, username: str) -> User | None:
    return await session.scalar(select(User).where(User.username == username))


async def any_superuser(session: AsyncSession) -> bool:
    found = await session.scalar(select(User.id).where(User.is_superuser.is_(True), User.is_active.is_(True)))
    return found is not None


async def count_users(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(User)) or 0


async def count_active_admins(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(User).where(
        User.is_superuser.is_(True), User.is_active.is_(True))) or 0


async def lock_users(session: AsyncSession) -> None:
    """On PostgreSQL, a transaction lock that serialises changes to who is an administrator across
    processes too (within one process the caller also holds an asyncio lock; SQLite writes are serial)."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(7146811)"))


def users_query():
    return select(User).where(User.is_active.is_(True)).order_by(User.username)


def admins_query():
    return select(User).where(User.is_superuser.is_(True), User.is_active.is_(True)).order_by(User.username)


async def token_for_user(session: AsyncSession, user_id: int) -> Token | None:
    return await session.scalar(select(Token).where(Token.user_id == user_id))


async def user_by_token_digest(session: AsyncSession, digest: str) -> tuple[User, Token] | None:
    row = (await session.execute(select(User, Token).join(Token, Token.user_id == User.id)
                                 .where(Token.digest == digest))).first()
    return (row[0], row[1]) if row else None


async def delete_all_tokens(session: AsyncSession) -> None:
    await session.execute(delete(Token))


async def count_apps_owned(session: AsyncSession, username: str) -> int:
    return int(await session.scalar(select(func.count()).select_from(App).where(App.owner == username)) or 0)


# --- apps ----------------------------------------------------------------------------------------


async def app_by_id(session: AsyncSession, app_id: str) -> App | None:
    return await session.get(App, app_id)


async def app_exists(session: AsyncSession, app_id: str) -> bool:
    return (await session.scalar(select(App.id).where(App.id == app_id))) is not None


def visible_apps_query(user: User):
    stmt = select(App).order_by(App.id)
    if user.is_superuser:
        return stmt
    shared = select(AppPermission.app_id).where(AppPermission.username == user.username)
    return stmt.where(or_(App.owner == user.username, App.id.in_(shared)))


async def all_app_ids(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(App.id).order_by(App.id))).all())


async def is_collaborator(session: AsyncSession, app_id: str, username: str) -> bool:
    found = await session.scalar(select(AppPermission.id).where(AppPermission.app_id == app_id,
                                                                AppPermission.username == username))
    return found is not None


async def collaborators(session: AsyncSession, app_id: str) -> list[str]:
    stmt = select(AppPermission.username).where(AppPermission.app_id == app_id).order_by(AppPermission.username)
    return list((await session.scalars(stmt)).all())


async def remove_collaborator(session: AsyncSession, app_id: str, username: str) -> None:
    await session.execute(delete(AppPermission).where(AppPermission.app_id == app_id,
                                                      AppPermission.username == username))


async def remove_user_permissions(session: AsyncSession, username: str) -> None:
    """A cancelled user's collaborations and SSH keys go with them (a later namesake must not
    inherit them; upstream cascades both)."""
    await session.execute(delete(AppPermission).where(AppPermission.username == username))
    await session.execute(delete(Key).where(Key.owner == username))


async def protected_rows_owned(session: AsyncSession, username: str) -> list[str]:
    """Tables holding rows the user owns that upstream protects from the user's deletion."""
    kinds = []
    for model in (Build, Certificate, Config, Domain, Release, AppSettings, TLS):
        if await session.scalar(select(model.owner).where(model.owner == username).limit(1)) is not None:
            kinds.append(model.__tablename__)
    return kinds


async def transfer_owned_rows(session: AsyncSession, app_id: str, old: str, new: str) -> None:
    """Transfer rewrites the owner of the app's rows that belonged to the old owner (upstream)."""
    for model in (AppSettings, Build, Config, Domain, Release, TLS):
        await session.execute(update(model).where(model.app_id == app_id, model.owner == old)
                              .values(owner=new))


async def delete_app(session: AsyncSession, app_id: str) -> None:
    # Children first: SQLite only cascades with foreign_keys=ON, and releases reference configs/builds.
    for model in (Event, AppPermission, Release, Build, Config, Domain, AppSettings, TLS):
        await session.execute(delete(model).where(model.app_id == app_id))
    await session.execute(delete(App).where(App.id == app_id))


# --- releases, builds, configs ---------------------------------------------------------------------


async def latest_release(session: AsyncSession, app_id: str) -> Release | None:
    """The newest release, failed ones included (its version + 1 is the next version)."""
    stmt = select(Release).where(Release.app_id == app_id).order_by(Release.version.desc()).limit(1)
    return await session.scalar(stmt)


async def current_release(session: AsyncSession, app_id: str) -> Release | None:
    """The newest release that did not fail: the one in force."""
    stmt = (select(Release).where(Release.app_id == app_id, Release.failed.is_(False))
            .order_by(Release.version.desc()).limit(1))
    return await session.scalar(stmt)


async def releases_in_force_after(session: AsyncSession, app_id: str, version: int) -> list[Release]:
    """The releases newer than `version` that did not fail, oldest first."""
    stmt = (select(Release).where(Release.app_id == app_id, Release.version > version, Release.failed.is_(False))
            .order_by(Release.version))
    return list((await session.scalars(stmt)).all())


MAX_INTEGER = 2**31 - 1  # an INTEGER column (PostgreSQL int4 refuses a larger parameter)


async def release_by_version(session: AsyncSession, app_id: str, version: int) -> Release | None:
    if not -MAX_INTEGER <= version <= MAX_INTEGER:
        return None  # no such release, and PostgreSQL would refuse the query
    return await session.scalar(select(Release).where(Release.app_id == app_id, Release.version == version))


def releases_query(app_id: str):
    return select(Release).where(Release.app_id == app_id).order_by(Release.version.desc())


def builds_query(app_id: str):
    return select(Build).where(Build.app_id == app_id).order_by(Build.created.desc())


async def build_by_uuid(session: AsyncSession, app_id: str, uuid: str) -> Build | None:
    return await session.scalar(select(Build).where(Build.app_id == app_id, Build.uuid == uuid))


async def get_build(session: AsyncSession, uuid: str | None) -> Build | None:
    return await session.get(Build, uuid) if uuid else None


async def build_digests(session: AsyncSession, build_uuids: Sequence[str | None]) -> dict[str, str]:
    """Build uuid -> the manifest digest it runs, for the releases shown (one query for a page)."""
    uuids = {u for u in build_uuids if u}
    if not uuids:
        return {}
    stmt = select(Build.uuid, Build.digest).where(Build.uuid.in_(uuids))
    return {uuid: digest for uuid, digest in (await session.execute(stmt)).all()}


async def pinned_images_by_app(session: AsyncSession) -> dict[str, list[tuple[str, str]]]:
    """Every app's releases that run a digest, newest first: app id -> [(image, digest), …] (image GC)."""
    stmt = (select(Release.app_id, Build.image, Build.digest).join(Build, Release.build_uuid == Build.uuid)
            .where(Build.digest != "").order_by(Release.app_id, Release.version.desc()))
    grouped: dict[str, list[tuple[str, str]]] = {}
    for app_id, image, digest in (await session.execute(stmt)).all():
        grouped.setdefault(app_id, []).append((image, digest))
    return grouped


async def get_config(session: AsyncSession, uuid: str) -> Config | None:
    return await session.get(Config, uuid)


# --- domains, settings, tls -----------------------------------------------------------------------


def domains_query(app_id: str):
    return select(Domain).where(Domain.app_id == app_id).order_by(Domain.domain)


async def app_domains(session: AsyncSession, app_id: str) -> list[Domain]:
    return list((await session.scalars(domains_query(app_id))).all())


async def latest_settings(session: AsyncSession, app_id: str) -> AppSettings | None:
    stmt = (select(AppSettings).where(AppSettings.app_id == app_id)
            .order_by(AppSettings.created.desc()).limit(1))
    return await session.scalar(stmt)


async def latest_tls(session: AsyncSession, app_id: str) -> TLS | None:
    stmt = select(TLS).where(TLS.app_id == app_id).order_by(TLS.created.desc()).limit(1)
    return await session.scalar(stmt)


# --- events -------------------------------------------------------------------------------------


async def recent_events(session: AsyncSession, app_id: str, limit: int) -> list[Event]:
    stmt = select(Event).where(Event.app_id == app_id).order_by(Event.created.desc(), Event.id.desc()).limit(limit)
    return list(reversed((await session.scalars(stmt)).all()))


async def autoscale_events(session: AsyncSession, app_id: str, limit: int = 200) -> list[Event]:
    """The app's latest autoscaler events (`autoscaled …`, `autoscaling … failed`), newest first."""
    stmt = (select(Event).where(Event.app_id == app_id, Event.message.startswith("autoscal"))
            .order_by(Event.created.desc(), Event.id.desc()).limit(limit))
    return list((await session.scalars(stmt)).all())


# --- collaborators, keys, certificates ------------------------------------------------------------


async def add_collaborator(session: AsyncSession, app_id: str, username: str) -> None:
    if not await is_collaborator(session, app_id, username):
        session.add(AppPermission(app_id=app_id, username=username))
        await session.flush()


def keys_query(owner: str):
    return select(Key).where(Key.owner == owner).order_by(Key.public)


async def key_of(session: AsyncSession, owner: str, key_id: str) -> Key | None:
    return await session.scalar(select(Key).where(Key.owner == owner, Key.id == key_id))


async def key_id_taken(session: AsyncSession, key_id: str) -> bool:
    return await session.scalar(select(Key.uuid).where(Key.id == key_id)) is not None


async def public_key_taken(session: AsyncSession, public: str) -> bool:
    return await session.scalar(select(Key.uuid).where(Key.public == public)) is not None


def certificates_query(owner: str):
    return select(Certificate).where(Certificate.owner == owner).order_by(Certificate.name)


async def certificate_of(session: AsyncSession, owner: str, name: str) -> Certificate | None:
    return await session.scalar(select(Certificate).where(Certificate.owner == owner, Certificate.name == name))


async def certificate_name_taken(session: AsyncSession, name: str) -> bool:
    return await session.scalar(select(Certificate.id).where(Certificate.name == name)) is not None


async def certificates_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Certificate]:
    if not ids:
        return {}
    rows = (await session.scalars(select(Certificate).where(Certificate.id.in_(list(ids))))).all()
    return {row.id: row for row in rows}


async def certificate_domains(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[str]]:
    """The domain names each certificate is attached to, sorted."""
    found: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        stmt = (select(Domain.certificate_id, Domain.domain).where(Domain.certificate_id.in_(list(ids)))
                .order_by(Domain.domain))
        for cert_id, name in (await session.execute(stmt)).all():
            found[cert_id].append(name)
    return found


async def domain_by_name(session: AsyncSession, names: Sequence[str]) -> Domain | None:
    """A domain of any app, by any of its spellings."""
    return await session.scalar(select(Domain).where(Domain.domain.in_(list(names))).limit(1))


async def detach_certificate(session: AsyncSession, cert_id: int) -> None:
    await session.execute(update(Domain).where(Domain.certificate_id == cert_id).values(certificate_id=None))


# --- the route table, in a few queries whatever the number of apps ----------------------------------


async def _latest_rows_by_app(session: AsyncSession, model) -> dict[str, Any]:
    newest = (select(model.app_id, func.max(model.created).label("newest"))
              .group_by(model.app_id).subquery())
    stmt = select(model).join(newest, and_(model.app_id == newest.c.app_id, model.created == newest.c.newest))
    return {row.app_id: row for row in (await session.scalars(stmt)).all()}


async def latest_settings_by_app(session: AsyncSession) -> dict[str, AppSettings]:
    return await _latest_rows_by_app(session, AppSettings)


async def latest_tls_by_app(session: AsyncSession) -> dict[str, TLS]:
    return await _latest_rows_by_app(session, TLS)


async def domains_by_app(session: AsyncSession) -> dict[str, list[Domain]]:
    grouped: dict[str, list[Domain]] = {}
    for domain in (await session.scalars(select(Domain).order_by(Domain.app_id, Domain.domain))).all():
        grouped.setdefault(domain.app_id, []).append(domain)
    return grouped


async def app_structures(session: AsyncSession) -> dict[str, dict[str, int]]:
    """Every app's wanted process counts, for the reconciler's pass."""
    return {app_id: structure or {} for app_id, structure in (await session.execute(select(App.id, App.structure)))}
