"""API fuzzing (issue #7): schemathesis against the OpenAPI schema the app serves, every operation,
authenticated, in positive and negative generation modes. Each response must be no 5xx, a declared
status, a declared content type and a body matching the declared schema.

The app is the real one (`create_app`) on the real engine, on a network of its own, without nginx. Its
lifespan runs in one event loop of our own (an anyio blocking portal) and every request is sent to the ASGI app
in that loop (`call_asgi`), so the database engine and the aiodocker client stay on the loop
that opened them. Some of the generated cases are aimed at objects that exist (the app, its build,
pod, domain, key, certificate, users); cases that change or remove them are followed by a repair.
Image names are confined to the local registry, so a generated image name never reaches Docker Hub.

Hypothesis runs derandomized and without an example database, so a run is reproducible and leaves no
`.hypothesis/` behind. Any failing case it found is kept in tests/fuzz/test_regressions.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import anyio
import anyio.from_thread
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.test_keys import RSA
from tests.certgen import make_cert
from tests.conftest import truncate_all
from tests.engine.conftest import free_port, test_images  # noqa: F401  (fixture)
from workflow import repositories as repo
from workflow import security
from workflow.config import Settings
from workflow.main import create_app

pytestmark = pytest.mark.engine

# Hypothesis keeps caches under `.hypothesis/` in the working directory even without an example database
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "workflow-fuzz-hypothesis")

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
MAX_EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 15}
REGISTRY = "127.0.0.1:5000"
IMAGE = f"{REGISTRY}/test/web:latest"
PASSWORD = "fuzz-secret"
ADMIN, USER = "fuzzadmin", "fuzzuser"
APP, DOMAIN, KEY, CERT = "fuzzapp", "fuzz.example.com", "fuzzkey", "fuzzcert"
SAFE = {"GET", "HEAD"}
EXISTING = "xexistingx"  # placeholder for the value of an existing object, see Fuzz.known


def _operations() -> list[tuple[str, GenerationMode]]:
    """(operation id, mode) for test ids at collection time (the test itself uses the served schema).
    Negative mode where there is something to negate: parameters or a body."""
    document = create_app(Settings(data_dir="/nonexistent", secret_key="x")).openapi()
    cases = []
    for ops in document["paths"].values():
        for op in ops.values():
            cases.append((op["operationId"], GenerationMode.POSITIVE))
            if op.get("parameters") or op.get("requestBody"):
                cases.append((op["operationId"], GenerationMode.NEGATIVE))
    return cases


class Fuzz:
    """The running app, its schema, the fixture objects and the requests that reach them."""

    def __init__(self, portal: anyio.from_thread.BlockingPortal, app: Any, client: httpx.Client):
        self.portal, self.app, self.client = portal, app, client
        self.tokens: dict[str, str] = {}
        self.statuses: dict[str, Counter[int]] = {}
        self.schema = schemathesis.openapi.from_dict(self.request("GET", "/openapi.json").json())
        self.build_uuid = ""

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        request = self.client.build_request(method, url, **kwargs)
        return self.portal.call(call_asgi, self.app, request)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"token {self.tokens[who]}"}

    def api(self, method: str, url: str, who: str = ADMIN, expect: tuple[int, ...] = (200, 201, 204),
            **kwargs: Any) -> httpx.Response:
        r = self.request(method, url, headers=self.auth(who), **kwargs)
        assert r.status_code in expect, f"{method} {url}: {r.status_code} {r.text}"
        return r

    # -- the objects the cases may aim at, and their repair

    async def _reset_user(self, username: str, superuser: bool) -> None:
        ctx = self.app.state.ctx
        async with ctx.sessions() as session:
            user = await repo.user_by_name(session, username)
            if user is None:
                return
            user.is_superuser = superuser
            user.is_active = True
            user.password = await security.hash_password(PASSWORD)
            session.add(user)
            await session.commit()

    def ensure_user(self, username: str, superuser: bool) -> None:
        self.request("POST", "/v2/auth/register/", json={"username": username, "password": PASSWORD})
        self.portal.call(self._reset_user, username, superuser)
        r = self.request("POST", "/v2/auth/login/", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        self.tokens[username] = r.json()["token"]

    def ensure_objects(self) -> None:
        self.ensure_user(ADMIN, True)
        self.ensure_user(USER, False)
        if self.request("GET", f"/v2/apps/{APP}/", headers=self.auth(ADMIN)).status_code == 404:
            self.api("POST", "/v2/apps/", json={"id": APP})
            self.api("POST", f"/v2/apps/{APP}/builds/", json={"image": IMAGE})
        builds = self.api("GET", f"/v2/apps/{APP}/builds/").json()["results"]
        self.build_uuid = builds[0]["uuid"] if builds else ""
        self.api("POST", f"/v2/apps/{APP}/perms/", json={"username": USER}, expect=(201, 400, 409))
        self.api("POST", f"/v2/apps/{APP}/domains/", json={"domain": DOMAIN}, expect=(201, 400))
        keys = self.api("GET", "/v2/keys/").json()["results"]
        if not any(k["id"] == KEY for k in keys):
            self.api("POST", "/v2/keys/", json={"id": KEY, "public": RSA}, expect=(201, 400))
        if self.request("GET", f"/v2/certs/{CERT}", headers=self.auth(ADMIN)).status_code == 404:
            pem = make_cert(DOMAIN)
            self.api("POST", "/v2/certs/", json={"name": CERT, "certificate": pem.certificate, "key": pem.key},
                     expect=(201, 400))

    def pod_name(self) -> str:
        pods = self.request("GET", f"/v2/apps/{APP}/pods/", headers=self.auth(ADMIN)).json().get("results") or []
        return pods[0]["name"] if pods else f"{APP}-cmd-0000000000-abcde"

    def known(self, path: str, name: str) -> str | None:
        """A value of an existing object for a path parameter."""
        if name == "name" and path.startswith("/v2/certs"):
            return CERT
        return {
            "id": APP, "username": USER, "domain": DOMAIN, "key_id": KEY, "type": "cmd", "uuid": self.build_uuid,
            "version": "2", "name": self.pod_name() if name == "name" else None,
        }.get(name)


@pytest.fixture(scope="module")
def fuzz(database_url, tmp_path_factory, test_images) -> Iterator[Fuzz]:  # noqa: F811
    network = f"workflow-fuzz-{os.getpid()}"
    app = create_app(Settings(
        data_dir=tmp_path_factory.mktemp("fuzz"), database_url=database_url, secret_key="test-secret",
        registration_mode="enabled", router_enabled=False, port=free_port(), tls_port=free_port(),
        # a generous readiness timeout: a restart that times out answers 503, which would fail the run on a busy machine
        docker_network=network, deploy_timeout=30, stop_grace_seconds=0, run_timeout=10, reconcile_interval=1.0))
    try:
        with anyio.from_thread.start_blocking_portal() as portal:
            with portal.wrap_async_context_manager(app.router.lifespan_context(app)):
                client = httpx.Client(base_url="http://testserver")  # builds requests; call_asgi sends them
                try:
                    portal.call(truncate_all, app)
                    fuzz = Fuzz(portal, app, client)
                    fuzz.ensure_objects()
                    yield fuzz
                finally:
                    ctx = app.state.ctx
                    portal.call(lambda: _remove_all(ctx))
                    portal.call(truncate_all, app)
    finally:
        subprocess.run(["docker", "network", "rm", network], capture_output=True)


async def call_asgi(app: Any, request: httpx.Request, timeout: float = 60, stream_for: float = 1.0) -> httpx.Response:
    """Sends one request to the app in this event loop. A response whose body is still streaming
    `stream_for` seconds after it started (`logs?follow=true` never ends) is cut there, like a client
    that stops reading; the app sees the disconnect."""
    body = await request.aread()
    started: dict[str, Any] = {}
    chunks: list[bytes] = []
    has_started, done = anyio.Event(), anyio.Event()
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
            has_started.set()
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    async def run() -> None:
        try:
            await app(scope, receive, send)
        finally:
            has_started.set()
            done.set()

    url = request.url
    path = url.raw_path.split(b"?")[0]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
        "scheme": url.scheme, "path": unquote(path.decode("ascii")), "raw_path": path, "query_string": url.query,
        "root_path": "", "headers": [(k.lower(), v) for k, v in request.headers.raw],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }
    clock = time.monotonic()
    with anyio.fail_after(timeout):
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            await has_started.wait()
            with anyio.move_on_after(stream_for):
                await done.wait()
            done.set()
            tg.cancel_scope.cancel()
    assert started, f"{request.method} {url}: the app sent no response"
    response = httpx.Response(started["status"], headers=started.get("headers", []), content=b"".join(chunks),
                              request=request)
    response.elapsed = timedelta(seconds=time.monotonic() - clock)
    return response


async def _remove_all(ctx: Any) -> None:
    for worker in (ctx.autoscaler, ctx.health, ctx.reconciler):  # nothing may start replacements while we clean up
        await worker.stop()
    await ctx.scheduler.remove(await ctx.scheduler.list(), grace_seconds=0)


def _to_httpx(kwargs: dict[str, Any]) -> dict[str, Any]:
    """schemathesis' requests-style call arguments as httpx ones."""
    out = {k: kwargs[k] for k in ("method", "url", "headers", "params") if kwargs.get(k) is not None}
    if "json" in kwargs:  # serialized as schemathesis does: NaN and Infinity are sent, not refused
        out["content"] = json.dumps(kwargs["json"]).encode()
        out["headers"] = {"Content-Type": "application/json", **out.get("headers", {})}
    if kwargs.get("data") is not None:
        data = kwargs["data"]
        out["content"] = data.encode() if isinstance(data, str) else data
    if kwargs.get("cookies"):
        out["cookies"] = kwargs["cookies"]
    return out


# Input that generation from the schema rarely produces and that broke handlers before (see test_regressions.py):
# numbers beyond 64 bits and JSON's Infinity, digits `int` refuses, NUL, lone surrogates, JSON inside strings.
ODD_STRINGS = ["²", "١٢", str(10**30), f"-{10**30}", "-1", "0", "\x00", "a\x00b", "..", " ", "%", "1e999", "NaN",
               "\u202e", "x" * 300, '{"a": "\\ud800"}', '{"web": 1e999}', "[]", "{}", "null"]  # URL-safe: no surrogate
ODD_VALUES = [*ODD_STRINGS, "\ud800", "a\udfff", 10**30, -(10**30), 2**63, float("inf"), float("-inf"), float("nan"),
              1e308, True, None, [], {}, ["\x00"], {"\x00": "\x00"}, {"A": "\ud800"}, {"A": 10**30}, {"PORT": "²"},
              {"cmd": 10**30},
              {"web": {"min": float("inf"), "max": 10**30, "cpu_percent": float("nan")}}]
ODD_QUERY = {"limit": ODD_STRINGS, "offset": ODD_STRINGS, "log_lines": ODD_STRINGS, "follow": ["true", "2", "\x00"]}


def _body_fields(operation: Any) -> list[str]:
    """The property names of the operation's JSON body schema (through `anyOf` and `$ref`)."""
    document = operation.schema.raw_schema
    content = (operation.definition.raw.get("requestBody") or {}).get("content") or {}
    pending = [(content.get("application/json") or {}).get("schema") or {}]
    fields: list[str] = []
    while pending:
        schema = pending.pop()
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        pending += schema.get("anyOf", [])
        fields += [name for name in schema.get("properties", {}) if name not in fields]
    return fields or ["cmd", "web"]


def odd_cases(operation: Any, known: dict[str, str]) -> st.SearchStrategy[schemathesis.Case]:
    """Cases that aim the odd input at one place at a time: a path parameter, a query parameter, a body field."""
    choices: list[st.SearchStrategy[schemathesis.Case]] = []
    for name in (p.name for p in operation.path_parameters):
        choices.append(st.sampled_from(ODD_STRINGS).flatmap(
            lambda value, name=name: operation.as_strategy(path_parameters={**known, name: value})))
    if operation.method.upper() == "GET":
        choices.append(st.sampled_from(sorted(ODD_QUERY)).flatmap(
            lambda name: st.sampled_from(ODD_QUERY[name]).flatmap(
                lambda value: operation.as_strategy(path_parameters=known, query={name: value}))))
    if operation.body:
        fields = _body_fields(operation)
        choices.append(st.tuples(st.sampled_from(fields), st.sampled_from(ODD_VALUES)).flatmap(
            lambda pair: operation.as_strategy(path_parameters=known, body={pair[0]: pair[1]},
                                               media_type="application/json")))
    return st.one_of(choices) if choices else operation.as_strategy()


@pytest.mark.parametrize(("operation_id", "mode"),
                         [pytest.param(op, mode, id=f"{op}-{mode}") for op, mode in _operations()])
def test_operation(fuzz: Fuzz, operation_id: str, mode: GenerationMode) -> None:
    operation = fuzz.schema.find_operation_by_id(operation_id)
    # about half the cases aim their path parameters at objects that exist
    known = {p.name: EXISTING for p in operation.path_parameters if fuzz.known(operation.path, p.name) is not None}
    strategy = operation.as_strategy(generation_mode=mode)
    if known:
        strategy = strategy | operation.as_strategy(generation_mode=mode, path_parameters=known)
    if mode == GenerationMode.POSITIVE:
        strategy = strategy | odd_cases(operation, known)

    @settings(max_examples=MAX_EXAMPLES[mode], deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    @given(case=strategy, data=st.data())
    def run(case: schemathesis.Case, data: st.DataObject) -> None:
        for name, value in case.path_parameters.items():
            if value == EXISTING:  # filled in now: restarts and repairs change pod names and uuids
                case.path_parameters[name] = fuzz.known(operation.path, name)
        if isinstance(case.body, dict) and isinstance(case.body.get("image"), str):
            case.body["image"] = f"{REGISTRY}/{case.body['image']}"  # never a pull from Docker Hub
        who = data.draw(st.sampled_from([ADMIN, ADMIN, ADMIN, USER]), label="caller")
        kwargs = case.as_transport_kwargs(base_url="http://testserver")
        # the schema's security scheme makes schemathesis generate an `Authorization` value: ours replaces it
        kwargs["headers"] = {k: v for k, v in kwargs["headers"].items() if k.lower() != "authorization"}
        kwargs["headers"].update(fuzz.auth(who))
        response = fuzz.request(**_to_httpx(kwargs))
        fuzz.statuses.setdefault(f"{operation_id}-{mode}", Counter())[response.status_code] += 1
        if os.environ.get("FUZZ_DEBUG"):
            print(operation_id, mode, response.status_code, response.request.url, repr(kwargs.get("data"))[:150],
                  response.text[:150])
        try:
            case.validate_response(response, checks=CHECKS, headers=kwargs.get("headers"))
        finally:
            if case.method.upper() not in SAFE and response.status_code < 300:
                fuzz.ensure_objects()

    run()
    statuses = fuzz.statuses[f"{operation_id}-{mode}"]
    if os.environ.get("FUZZ_DEBUG"):
        print(operation_id, mode, dict(statuses))
    assert set(statuses) - {401}, f"{operation_id}: every case was refused as unauthenticated: {dict(statuses)}"
