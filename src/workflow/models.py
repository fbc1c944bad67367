"""SQLModel tables only. Schema changes go through Alembic migrations in migrations/.

Owners are stored as usernames (the wire always shows usernames, and Deis never renames users).
Times are timezone-aware UTC datetimes (SQLModel's UTCDateTime).
"""

from __future__ import annotations

import uuid as uuidlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, String, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_uuid() -> str:
    return str(uuidlib.uuid4())


def json_column() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


def app_fk() -> Any:
    return Field(sa_column=Column(String(63), ForeignKey("apps.id", ondelete="CASCADE"), index=True,
                                  nullable=False))


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=150, unique=True, index=True)
    password: str = Field(max_length=255)  # argon2 hash
    email: str = Field(default="", max_length=254)
    first_name: str = Field(default="", max_length=150)
    last_name: str = Field(default="", max_length=150)
    is_superuser: bool = False
    is_staff: bool = False
    is_active: bool = True
    last_login: datetime | None = None
    date_joined: datetime = Field(default_factory=utcnow)


class Token(SQLModel, table=True):
    """One API token per user. Kept as a SHA-256 digest (for lookup) and encrypted (so login can
    return the same token again, as Deis does) — never in clear."""

    __tablename__ = "tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(ForeignKey("users.id", ondelete="CASCADE"), unique=True,
                                          nullable=False))
    digest: str = Field(max_length=64, unique=True, index=True)
    encrypted: str = Field(max_length=255)
    created: datetime = Field(default_factory=utcnow)


class App(SQLModel, table=True):
    __tablename__ = "apps"

    id: str = Field(primary_key=True, max_length=63)
    uuid: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    owner: str = Field(max_length=150, index=True)
    structure: dict[str, int] = json_column()
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)


class AppPermission(SQLModel, table=True):
    """A collaborator of an app (Deis' `use_app` object permission)."""

    __tablename__ = "app_permissions"
    __table_args__ = (UniqueConstraint("app_id", "username"),)

    id: int | None = Field(default=None, primary_key=True)
    app_id: str = app_fk()
    username: str = Field(max_length=150, index=True)


class Config(SQLModel, table=True):
    __tablename__ = "configs"

    uuid: str = Field(default_factory=new_uuid, primary_key=True, max_length=36)
    app_id: str = app_fk()
    owner: str = Field(max_length=150)
    values: dict[str, Any] = json_column()
    memory: dict[str, Any] = json_column()
    cpu: dict[str, Any] = json_column()
    tags: dict[str, Any] = json_column()
    # `registry` is reserved by SQLAlchemy's declarative base; the column keeps the wire name.
    registry_info: dict[str, Any] = Field(default_factory=dict, sa_column=Column("registry", JSON,
                                                                                  nullable=False))
    healthcheck: dict[str, Any] = json_column()
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)


class Build(SQLModel, table=True):
    __tablename__ = "builds"

    uuid: str = Field(default_factory=new_uuid, primary_key=True, max_length=36)
    app_id: str = app_fk()
    owner: str = Field(max_length=150)
    image: str = Field(max_length=512)
    # The registry's manifest digest the image resolved to when the build was made (`sha256:…`); every
    # container of its releases runs `name@digest`. Empty for builds made before digests were recorded.
    digest: str = Field(default="", max_length=71)
    sha: str = Field(default="", max_length=64)
    procfile: dict[str, str] = json_column()
    dockerfile: str = ""
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)


class Release(SQLModel, table=True):
    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("app_id", "version"),)

    uuid: str = Field(default_factory=new_uuid, primary_key=True, max_length=36)
    app_id: str = app_fk()
    owner: str = Field(max_length=150)
    version: int
    summary: str = ""
    failed: bool = False
    failure: str = ""  # why the deploy failed, shown in logs
    config_uuid: str = Field(foreign_key="configs.uuid", max_length=36)
    build_uuid: str | None = Field(default=None, foreign_key="builds.uuid", max_length=36)
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)


class Domain(SQLModel, table=True):
    __tablename__ = "domains"

    id: int | None = Field(default=None, primary_key=True)
    app_id: str = app_fk()
    owner: str = Field(max_length=150)
    domain: str = Field(max_length=253, unique=True, index=True)
    certificate_id: int | None = Field(
        default=None, sa_column=Column(ForeignKey("certificates.id", ondelete="SET NULL"), nullable=True)
    )
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)


class AppSettings(SQLModel, table=True):
    """Versioned like upstream: every change adds a row; the newest row is in force."""

    __tablename__ = "app_settings"

    uuid: str = Field(default_factory=new_uuid, primary_key=True, max_length=36)
    app_id: str = app_fk()
    owner: str = Field(max_length=150)
    maintenance: bool = False
    routable: bool = True
    whitelist: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    autoscale: dict[str, Any] = json_column()
    label: dict[str, Any] = json_column()
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)


class TLS(SQLModel, table=True):
    __tablename__ = "tls"

    uuid: str = Field(default_factory=new_uuid, primary_key=True, max_length=36)
    app_id: str = app_fk()
    owner: str = Field(max_length=150)
    https_enforced: bool | None = None
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)


class Key(SQLModel, table=True):
    __tablename__ = "keys"

    uuid: str = Field(default_factory=new_uuid, primary_key=True, max_length=36)
    id: str = Field(max_length=128, unique=True, index=True)
    owner: str = Field(max_length=150, index=True)
    public: str = Field(unique=True)
    fingerprint: str = Field(max_length=128)
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)


class Certificate(SQLModel, table=True):
    __tablename__ = "certificates"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=253, unique=True, index=True)
    owner: str = Field(max_length=150, index=True)
    certificate: str
    key: str  # encrypted private key
    common_name: str | None = None
    fingerprint: str = Field(max_length=128)
    expires: datetime
    starts: datetime
    issuer: str = ""
    subject: str = ""
    san: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)


class ReleaseEvent(SQLModel, table=True):
    """One step of a release's deploy (services/deploy_events.py): `seq` orders a release's events."""

    __tablename__ = "release_events"
    __table_args__ = (UniqueConstraint("app_id", "version", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    app_id: str = app_fk()
    version: int
    seq: int
    created: datetime = Field(default_factory=utcnow)
    kind: str = Field(max_length=16)
    level: str = Field(default="INFO", max_length=16)
    message: str
    data: dict = json_column()


class Event(SQLModel, table=True):
    """A platform event for an app's log (`deis[controller]: INFO ...`), kept across restarts."""

    __tablename__ = "events"

    id: int | None = Field(default=None, primary_key=True)
    app_id: str = app_fk()
    created: datetime = Field(default_factory=utcnow, index=True)
    level: str = Field(default="INFO", max_length=16)
    message: str
