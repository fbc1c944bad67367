"""Domains, settings, whitelist, certificates and TLS as the platform's nginx serves them: real HTTP(S)
against the router after the API call returns (changes are applied before the answer)."""

from __future__ import annotations

import asyncio
import ssl

import pytest

from tests.certgen import make_cert

from .conftest import app_name, host_of

pytestmark = pytest.mark.engine


async def deployed(api, auth) -> str:
    name = app_name()
    r = await api.post("/v2/apps/", json={"id": name}, headers=auth)
    assert r.status_code == 201, r.text
    r = await api.post(f"/v2/apps/{name}/builds/", json={"image": "test/web:latest"}, headers=auth)
    assert r.status_code == 201, r.text
    return name


async def settings(api, auth, name: str, body: dict) -> None:
    r = await api.post(f"/v2/apps/{name}/settings/", json=body, headers=auth)
    assert r.status_code == 201, r.text


async def tls_get(port: int, server_name: str) -> tuple[bytes, str]:
    """The peer certificate (DER) and the status line of `GET /` over TLS with SNI = `server_name`."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname=server_name), 10)
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        writer.write(f"GET / HTTP/1.1\r\nHost: {server_name}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        status = (await asyncio.wait_for(reader.readline(), 10)).decode().strip()
        return der, status
    finally:
        writer.close()


async def test_custom_domain_routes_until_removed(api, owner, router_client, engine_settings):
    name = await deployed(api, owner)
    domain = f"www.{name}.example.org"
    host = {"Host": domain}
    assert (await router_client.get("/", headers=host)).status_code == 404
    r = await api.post(f"/v2/apps/{name}/domains/", json={"domain": domain}, headers=owner)
    assert r.status_code == 201, r.text
    assert (await router_client.get("/", headers=host)).status_code == 200
    r = await api.delete(f"/v2/apps/{name}/domains/{domain}", headers=owner)
    assert r.status_code == 204
    assert (await router_client.get("/", headers=host)).status_code == 404
    assert (await router_client.get("/", headers=host_of(name, engine_settings))).status_code == 200


async def test_maintenance_routing_and_whitelist(api, owner, router_client, engine_settings):
    name = await deployed(api, owner)
    host = host_of(name, engine_settings)
    assert (await router_client.get("/", headers=host)).status_code == 200

    await settings(api, owner, name, {"maintenance": True})
    page = await router_client.get("/", headers=host)
    assert page.status_code == 503
    assert "maintenance" in page.text.lower()
    await settings(api, owner, name, {"maintenance": False})
    assert (await router_client.get("/", headers=host)).status_code == 200

    await settings(api, owner, name, {"routable": False})
    assert (await router_client.get("/", headers=host)).status_code == 404
    await settings(api, owner, name, {"routable": True})
    assert (await router_client.get("/", headers=host)).status_code == 200

    r = await api.post(f"/v2/apps/{name}/whitelist/", json={"addresses": ["10.0.0.0/8"]}, headers=owner)
    assert r.status_code == 201, r.text
    assert (await router_client.get("/", headers=host)).status_code == 403
    r = await api.post(f"/v2/apps/{name}/whitelist/", json={"addresses": ["0.0.0.0/0"]}, headers=owner)
    assert r.json() == {"addresses": ["10.0.0.0/8", "0.0.0.0/0"]}
    assert (await router_client.get("/", headers=host)).status_code == 200
    r = await api.request("DELETE", f"/v2/apps/{name}/whitelist/", json={"addresses": ["0.0.0.0/0"]}, headers=owner)
    assert r.status_code == 204
    assert (await router_client.get("/", headers=host)).status_code == 403
    await settings(api, owner, name, {"whitelist": []})
    assert (await router_client.get("/", headers=host)).status_code == 200


async def test_certificate_and_enforced_https(api, owner, router_client, engine_settings):
    name = await deployed(api, owner)
    domain = f"secure.{name}.example.org"
    pem = make_cert(domain, [domain])
    tls_port = engine_settings.tls_port
    cert_dir = engine_settings.data_dir / "certs"
    assert (await api.post(f"/v2/apps/{name}/domains/", json={"domain": domain}, headers=owner)).status_code == 201
    r = await api.post("/v2/certs/", json={"name": f"{name}-cert", "certificate": pem.certificate, "key": pem.key},
                       headers=owner)
    assert r.status_code == 201, r.text

    # no certificate attached yet: the handshake for that name is refused
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await tls_get(tls_port, domain)

    r = await api.post(f"/v2/certs/{name}-cert/domain/", json={"domain": domain}, headers=owner)
    assert r.status_code == 201, r.text
    der, status = await tls_get(tls_port, domain)
    assert der == pem.der
    assert status.startswith("HTTP/1.1 200")
    key_files = list(cert_dir.glob("*.key"))
    assert len(key_files) == 1 and key_files[0].stat().st_mode & 0o077 == 0

    r = await api.post(f"/v2/apps/{name}/tls/", json={"https_enforced": True}, headers=owner)
    assert r.status_code == 201, r.text
    page = await router_client.get("/some/path?x=1", headers={"Host": domain})
    assert page.status_code == 301
    assert page.headers["location"] == f"https://{domain}:{tls_port}/some/path?x=1"
    _, status = await tls_get(tls_port, domain)
    assert status.startswith("HTTP/1.1 200")

    r = await api.post(f"/v2/apps/{name}/tls/", json={"https_enforced": False}, headers=owner)
    assert r.status_code == 201
    assert (await router_client.get("/", headers={"Host": domain})).status_code == 200

    r = await api.delete(f"/v2/certs/{name}-cert/domain/{domain}", headers=owner)
    assert r.status_code == 204
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await tls_get(tls_port, domain)
    assert list(cert_dir.glob("*")) == []  # files of certificates no longer served are removed
    assert (await router_client.get("/", headers={"Host": domain})).status_code == 200


async def test_a_detached_certificate_keeps_its_files_while_another_app_uses_them(api, owner, engine_settings):
    """A detach rewrites only its app's route; the certificate's files (named by their content) are deleted
    with the last route that names them, not before."""
    names = [app_name(), app_name()]
    domains = [f"www.{n}.example.org" for n in names]
    pem = make_cert("shared", domains)
    cert = f"{names[0]}-shared"
    cert_dir = engine_settings.data_dir / "certs"
    r = await api.post("/v2/certs/", json={"name": cert, "certificate": pem.certificate, "key": pem.key},
                       headers=owner)
    assert r.status_code == 201, r.text
    for name, domain in zip(names, domains, strict=True):
        assert (await api.post("/v2/apps/", json={"id": name}, headers=owner)).status_code == 201
        r = await api.post(f"/v2/apps/{name}/domains/", json={"domain": domain}, headers=owner)
        assert r.status_code == 201, r.text
        r = await api.post(f"/v2/certs/{cert}/domain/", json={"domain": domain}, headers=owner)
        assert r.status_code == 201, r.text
    files = sorted(p.name for p in cert_dir.glob(f"{cert}-*"))
    assert len(files) == 2

    assert (await api.delete(f"/v2/certs/{cert}/domain/{domains[0]}", headers=owner)).status_code == 204
    assert sorted(p.name for p in cert_dir.glob(f"{cert}-*")) == files  # the other app still names them
    der, _ = await tls_get(engine_settings.tls_port, domains[1])
    assert der == pem.der
    with pytest.raises((ssl.SSLError, ConnectionError)):
        await tls_get(engine_settings.tls_port, domains[0])

    assert (await api.delete(f"/v2/apps/{names[1]}/domains/{domains[1]}", headers=owner)).status_code == 204
    assert list(cert_dir.glob(f"{cert}-*")) == []


async def test_the_router_counts_each_apps_requests(api, owner, platform, router_client, engine_settings):
    """Per-app counters kept in the router's shared memory (what request-rate autoscaling will read)."""
    name = await deployed(api, owner)
    for _ in range(4):
        assert (await router_client.get("/", headers=host_of(name, engine_settings))).status_code == 200
    await settings(api, owner, name, {"maintenance": True})
    assert (await router_client.get("/", headers=host_of(name, engine_settings))).status_code == 503
    counters = (await platform.state.ctx.routes.counters())[name]
    assert counters.requests >= 5  # the deploy's own checks may add some
    assert counters.status["2xx"] >= 4 and counters.status["5xx"] == 1
    assert sum(n for _, n in counters.latency) == counters.requests


async def test_a_settings_change_writes_only_its_apps_route(api, owner, platform, router_client, engine_settings):
    """One app's settings, domains or TLS change: only that app's route is read and written."""
    name, other = await deployed(api, owner), await deployed(api, owner)
    router = platform.state.ctx.routes.router
    before = (await router.snapshot())[other]
    writes = router.writes
    await settings(api, owner, name, {"maintenance": True})
    assert router.writes == writes + 1
    assert (await router_client.get("/", headers=host_of(name, engine_settings))).status_code == 503
    assert (await router.snapshot())[other] == before
    assert (await router_client.get("/", headers=host_of(other, engine_settings))).status_code == 200
    r = await api.delete(f"/v2/apps/{name}", headers=owner)
    assert r.status_code == 204, r.text
    assert (await router_client.get("/", headers=host_of(name, engine_settings))).status_code == 404
