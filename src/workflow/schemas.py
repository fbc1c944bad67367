"""Wire shapes: the JSON of the Deis Workflow v2.3 API (spec §2), as Pydantic models.

Request models are lenient (every field optional, loosely typed) because validation messages must
be Deis' own, produced by the services; response models are exact so the OpenAPI schema is true.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from . import models

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_time(value: datetime | None) -> str | None:
    return value.strftime(TIME_FORMAT) if value is not None else None


Timestamp = Annotated[datetime, PlainSerializer(lambda v: v.strftime(TIME_FORMAT), return_type=str)]
OptionalTimestamp = Annotated[datetime | None, PlainSerializer(format_time, return_type=str | None)]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """Django REST framework LimitOffsetPagination envelope."""

    count: int
    next: str | None
    previous: str | None
    results: list[T]


# --- requests ----------------------------------------------------------------------------------


class LenientIn(BaseModel):
    model_config = ConfigDict(extra="allow")


class RegisterIn(LenientIn):
    username: Any = None
    password: Any = None
    email: Any = None
    first_name: Any = None
    last_name: Any = None


class LoginIn(LenientIn):
    username: Any = None
    password: Any = None


class CancelIn(LenientIn):
    username: str | None = None


class PasswdIn(LenientIn):
    new_password: str | None = None
    password: str | None = None
    username: str | None = None


class TokensIn(LenientIn):
    username: str | None = None
    all: Any = None


class UsernameIn(LenientIn):
    username: Any = None


def documented(description: str, schema: dict[str, Any], example: Any = None) -> Any:
    """A lenient body field (checked by the services, which answer in the Deis error shapes) whose expected
    type is still documented for Swagger UI and generated clients."""
    extra: dict[str, Any] = dict(schema)
    if example is not None:
        extra["examples"] = [example]
    return Field(None, description=description, json_schema_extra=extra)


NULLABLE_STRING = {"anyOf": [{"type": "string"}, {"type": "null"}]}
# A map in the body, or the same map as a JSON string (the Workflow CLI sends either); null unsets a key.
STRING_MAP = {"anyOf": [{"type": "object", "additionalProperties": {
    "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"}]}},
    {"type": "string"}, {"type": "null"}]}


class AppCreateIn(LenientIn):
    id: Any = documented("The app's name (lower-case letters, digits and dashes); a random one when absent.",
                         NULLABLE_STRING, "example-go")


class AppUpdateIn(LenientIn):
    owner: str | None = None


class BuildIn(LenientIn):
    image: Any = documented("The Docker image to deploy (`deis pull`).", {"type": "string"},
                            "gabrtv/example-go:latest")
    procfile: Any = documented("Process types and their commands; absent: the image's own CMD as `cmd`.",
                               STRING_MAP, {"web": "./server --port $PORT"})
    sha: Any = documented("The source commit, recorded with the build.", NULLABLE_STRING)
    dockerfile: Any = documented("The Dockerfile the image was built from, recorded with the build.",
                                 NULLABLE_STRING)


class RollbackIn(LenientIn):
    version: Any = documented("The release to go back to; absent: the one before the current.",
                              {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}, 2)


class ConfigIn(LenientIn):
    values: Any = documented("Environment variables to set (null unsets one).", STRING_MAP,
                             {"DATABASE_URL": "postgres://db/app", "DEBUG": None})
    memory: Any = documented("Memory limit per process type, e.g. `512M` (null removes it).", STRING_MAP,
                             {"web": "512M"})
    cpu: Any = documented("CPU limit per process type, e.g. `500m` or `1` (null removes it).", STRING_MAP,
                          {"web": "500m"})
    tags: Any = documented("Labels the app's containers must run on (null removes one).", STRING_MAP,
                           {"environment": "production"})
    registry: Any = documented("Private registry credentials: `username` and `password` (null removes).",
                               STRING_MAP, {"username": "bob", "password": "s3cur3pw1"})
    healthcheck: Any = documented("Probes per process type: `livenessProbe` / `readinessProbe` as in Kubernetes.",
                                  {"anyOf": [{"type": "object"}, {"type": "string"}, {"type": "null"}]},
                                  {"web/cmd": {"readinessProbe": {"httpGet": {"path": "/", "port": 8080}}}})


class RunIn(LenientIn):
    command: Any = None


# --- responses ---------------------------------------------------------------------------------


class UserOut(BaseModel):
    username: str
    email: str
    first_name: str
    last_name: str
    is_superuser: bool
    is_staff: bool
    is_active: bool
    last_login: OptionalTimestamp
    date_joined: Timestamp
    groups: list[Any]
    user_permissions: list[Any]

    @classmethod
    def of(cls, user: models.User) -> UserOut:
        return cls(username=user.username, email=user.email, first_name=user.first_name,
                   last_name=user.last_name, is_superuser=user.is_superuser, is_staff=user.is_staff,
                   is_active=user.is_active, last_login=user.last_login, date_joined=user.date_joined,
                   groups=[], user_permissions=[])


class TokenOut(BaseModel):
    token: str


class StatusOut(BaseModel):
    status: str


class AdminOut(BaseModel):
    username: str
    is_superuser: bool


class AppOut(BaseModel):
    uuid: str
    id: str
    owner: str
    structure: dict[str, int]
    created: Timestamp
    updated: Timestamp

    @classmethod
    def of(cls, app: models.App) -> AppOut:
        return cls(uuid=app.uuid, id=app.id, owner=app.owner, structure=app.structure or {},
                   created=app.created, updated=app.updated)


class BuildOut(BaseModel):
    uuid: str
    app: str
    owner: str
    image: str
    # Not in Deis (extra fields are safe for its clients): the manifest digest every container of this
    # build runs; null for builds made before digests were recorded.
    digest: str | None = Field(description="The registry's manifest digest the image resolved to "
                                           "(`sha256:…`); the build's containers run `name@digest`.")
    sha: str
    procfile: dict[str, str]
    dockerfile: str
    created: Timestamp
    updated: Timestamp

    @classmethod
    def of(cls, build: models.Build) -> BuildOut:
        return cls(uuid=build.uuid, app=build.app_id, owner=build.owner, image=build.image,
                   digest=build.digest or None, sha=build.sha, procfile=build.procfile or {},
                   dockerfile=build.dockerfile, created=build.created, updated=build.updated)


class ReleaseOut(BaseModel):
    uuid: str
    app: str
    owner: str
    version: int
    summary: str
    failed: bool
    config: str
    build: str | None
    # Not in Deis: the manifest digest the release runs (its build's); null without a build.
    digest: str | None = Field(description="The manifest digest (`sha256:…`) this release's containers run.")
    created: Timestamp
    updated: Timestamp

    @classmethod
    def of(cls, release: models.Release, digest: str | None = None) -> ReleaseOut:
        return cls(uuid=release.uuid, app=release.app_id, owner=release.owner, version=release.version,
                   summary=release.summary, failed=release.failed, config=release.config_uuid,
                   build=release.build_uuid, digest=digest or None, created=release.created,
                   updated=release.updated)


class ReleaseEventOut(BaseModel):
    """One step of a release's deploy (not in Deis). `kind`: image, plan, start, probe, ready, switch, drain,
    stop, crash, port, note; `deployed` or `failed` ends a deploy run (a scale or restart is a run too)."""

    seq: int = Field(description="Order within the release (each run continues the numbering).")
    created: str = Field(description="UTC, millisecond precision, as in `deis logs`.")
    kind: str
    level: str = Field(description="INFO or ERROR")
    message: str
    data: dict[str, Any] = Field(description="The step's figures: counts, container names, exit code, "
                                             "ports, probe attempt and result; `hint` on `failed`.")


class ReleaseEventsOut(BaseModel):
    count: int
    results: list[ReleaseEventOut]


class VersionOut(BaseModel):
    version: int


class ConfigOut(BaseModel):
    uuid: str
    app: str
    owner: str
    values: dict[str, str]
    memory: dict[str, str]
    cpu: dict[str, str]
    tags: dict[str, str]
    registry: dict[str, str]
    healthcheck: dict[str, Any]
    created: Timestamp
    updated: Timestamp


class PodOut(BaseModel):
    name: str
    state: str
    type: str
    release: str
    started: Timestamp
    # Not in Deis's pod: the node the task runs on, on a swarm (omitted on one machine; the Go CLI ignores it).
    node: str | None = None


class PodList(BaseModel):
    count: int
    results: list[PodOut]


class DomainOut(BaseModel):
    app: str
    owner: str
    domain: str
    created: Timestamp
    updated: Timestamp

    @classmethod
    def of(cls, domain: models.Domain) -> DomainOut:
        return cls(app=domain.app_id, owner=domain.owner, domain=domain.domain, created=domain.created,
                   updated=domain.updated)


class RunOut(BaseModel):
    exit_code: int
    output: str


class DomainIn(LenientIn):
    domain: Any = None


class AppSettingsOut(BaseModel):
    uuid: str
    app: str
    owner: str
    maintenance: bool
    routable: bool
    whitelist: list[str]
    autoscale: dict[str, Any]
    label: dict[str, Any]
    created: Timestamp
    updated: Timestamp

    @classmethod
    def of(cls, row: models.AppSettings) -> AppSettingsOut:
        return cls(uuid=row.uuid, app=row.app_id, owner=row.owner, maintenance=row.maintenance,
                   routable=row.routable, whitelist=list(row.whitelist or []), autoscale=row.autoscale or {},
                   label=row.label or {}, created=row.created, updated=row.updated)


class AutoscaleStatus(BaseModel):
    """One process type's rule and what the autoscaler last made of it (not in Deis: `deis autoscale:list`)."""

    min: int
    max: int
    cpu_percent: int | None = Field(description="target CPU use (percent); null: not a metric of this rule")
    rps_per_container: int | None = Field(default=None, description="target requests per second per container")
    p95_ms: int | None = Field(default=None, description="target 95th percentile latency (ms)")
    current: int = Field(description="the type's count now")
    cpu_usage_percent: float | None = Field(
        description="mean CPU use at the latest pass, percent of the CPU limit (of one core without a limit)")
    requests_per_container: float | None = Field(
        default=None, description="requests per second per container over the latest interval (request rules)")
    p95_latency_ms: float | None = Field(
        default=None, description="95th percentile latency of the latest interval's requests (request rules)")
    measured: OptionalTimestamp = Field(description="when the latest pass measured it")
    last_decision: str | None = Field(description="the latest scale step, as in `deis logs`")
    last_decision_at: OptionalTimestamp


class TLSOut(BaseModel):
    uuid: str
    app: str
    owner: str
    https_enforced: bool | None
    created: Timestamp
    updated: Timestamp

    @classmethod
    def of(cls, row: models.TLS) -> TLSOut:
        return cls(uuid=row.uuid, app=row.app_id, owner=row.owner, https_enforced=row.https_enforced,
                   created=row.created, updated=row.updated)


# --- collaborators, keys, certificates, settings changes -------------------------------------------


class PermsOut(BaseModel):
    users: list[str]


class KeyIn(LenientIn):
    id: Any = None
    public: Any = None


class KeyOut(BaseModel):
    uuid: str
    id: str
    owner: str
    public: str
    fingerprint: str
    created: Timestamp
    updated: Timestamp

    @classmethod
    def of(cls, key: models.Key) -> KeyOut:
        return cls(uuid=key.uuid, id=key.id, owner=key.owner, public=key.public, fingerprint=key.fingerprint,
                   created=key.created, updated=key.updated)


class CertificateIn(LenientIn):
    name: Any = None
    certificate: Any = None
    key: Any = None


class CertificateOut(BaseModel):
    id: int
    name: str
    owner: str
    common_name: str | None
    fingerprint: str
    expires: Timestamp
    starts: Timestamp
    issuer: str
    subject: str
    san: list[str]
    domains: list[str]
    created: Timestamp
    updated: Timestamp

    @classmethod
    def of(cls, cert: models.Certificate, domains: list[str]) -> CertificateOut:
        return cls(id=cert.id, name=cert.name, owner=cert.owner, common_name=cert.common_name,
                   fingerprint=cert.fingerprint, expires=cert.expires, starts=cert.starts, issuer=cert.issuer,
                   subject=cert.subject, san=list(cert.san or []), domains=sorted(domains),
                   created=cert.created, updated=cert.updated)


class AppSettingsIn(LenientIn):
    maintenance: Any = None
    routable: Any = None
    whitelist: Any = None
    autoscale: Any = None
    label: Any = None


class WhitelistIn(LenientIn):
    addresses: Any = None


class WhitelistOut(BaseModel):
    addresses: list[str]


class TLSIn(LenientIn):
    https_enforced: Any = None
