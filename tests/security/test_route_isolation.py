"""Issue 18 item 2, second half: certificates are checked at upload the way nginx loads them; and, as defence in
depth, a route the router cannot apply (a row stored before today's validators) stays its own app's problem:
that app's change answers with its own reason, without other tenants' values or server paths, every other app
keeps serving and keeps accepting changes, and a router start-up skips and reports the bad route."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import update

from tests.certgen import make_cert
from tests.engine.conftest import host_of
from workflow.models import AppSettings, Certificate, Domain

from .conftest import assert_deis_error, assert_unharmed, deployed_app

pytestmark = pytest.mark.engine

GARBAGE_BLOCK = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"


def rsa_1024(common_name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(65537, 1024)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=7)).sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


def assert_private(text: str, settings, victim) -> None:
    """An error a tenant reads: nothing of another tenant, no server path."""
    assert victim.app not in text and victim.username not in text, text
    assert str(settings.data_dir) not in text and "nginx.conf" not in text and "/tmp/" not in text, text


async def test_certificates_nginx_would_refuse_are_refused_at_upload(api, router_client, engine_settings, tenants):
    mallory, victim = tenants
    good = make_cert("shop.example.org")
    cert, key = rsa_1024("shop.example.org")  # below OpenSSL's security level 2 (Debian 12)
    attacks = [
        ({"certificate": good.certificate + GARBAGE_BLOCK, "key": good.key}, "certificate"),
        ({"certificate": good.certificate + "trailing junk\n", "key": good.key}, "certificate"),
        ({"certificate": cert, "key": key}, "key"),
    ]
    for body, field in attacks:
        r = await api.post("/v2/certs/", json={"name": "shop", **body}, headers=mallory.auth)
        assert_private(assert_deis_error(r, 400, field)[field][0], engine_settings, victim)
    assert (await api.get("/v2/certs/", headers=mallory.auth)).json()["count"] == 0
    r = await api.post("/v2/certs/", json={"name": "shop", "certificate": good.certificate, "key": good.key},
                       headers=mallory.auth)
    assert r.status_code == 201, r.text
    await assert_unharmed(api, router_client, engine_settings, victim)


async def routable(router_client, settings, tenant) -> int:
    return (await router_client.get("/", headers=host_of(tenant.app, settings))).status_code


async def test_a_bad_stored_route_is_isolated_to_its_app(api, platform, router_client, engine_settings, tenants):
    mallory, victim = tenants
    mallory.app = await deployed_app(api, mallory.auth)
    ctx = platform.state.ctx
    async with ctx.sessions() as session:  # rows the validators of before this fix let in
        session.add(Domain(app_id=mallory.app, owner=mallory.username, domain="bad host.example.org"))
        session.add(AppSettings(app_id=mallory.app, owner=mallory.username, whitelist=["fe80::1%eth0"]))
        await session.commit()
    r = await api.post(f"/v2/apps/{mallory.app}/settings/", json={"maintenance": True}, headers=mallory.auth)
    body = assert_deis_error(r, 503)
    assert "zone" in body["detail"] or "fe80::1%eth0" in body["detail"], body
    assert_private(body["detail"], engine_settings, victim)
    assert await routable(router_client, engine_settings, mallory) == 200  # its previous route serves
    await assert_unharmed(api, router_client, engine_settings, victim)
    # A deploy of the isolated app still reaches its new containers (its previous settings, today's upstreams).
    r = await api.post(f"/v2/apps/{mallory.app}/builds/", json={"image": "test/web:latest"}, headers=mallory.auth)
    assert r.status_code == 201, r.text
    assert await routable(router_client, engine_settings, mallory) == 200

    # Start-up (the router starting on the table from the database) skips and reports the bad route.
    router = ctx.routes.router
    await router.stop()
    await router.start(await ctx.routes.table())
    assert mallory.app in router.rejected and victim.app not in router.rejected
    assert await routable(router_client, engine_settings, mallory) == 404  # no route it had: none at all
    await assert_unharmed(api, router_client, engine_settings, victim)


async def test_a_certificate_nginx_refuses_is_isolated_to_its_app(api, platform, router_client, engine_settings,
                                                                  tenants):
    mallory, victim = tenants
    mallory.app = await deployed_app(api, mallory.auth)
    domain = f"www.{mallory.app}.example.org"
    assert (await api.post(f"/v2/apps/{mallory.app}/domains/", json={"domain": domain},
                           headers=mallory.auth)).status_code == 201
    pem = make_cert(domain)
    r = await api.post("/v2/certs/", json={"name": "www", "certificate": pem.certificate, "key": pem.key},
                       headers=mallory.auth)
    assert r.status_code == 201, r.text
    async with platform.state.ctx.sessions() as session:  # as stored before upload checks existed
        await session.execute(update(Certificate).where(Certificate.name == "www")
                              .values(certificate=pem.certificate + GARBAGE_BLOCK))
        await session.commit()
    r = await api.post("/v2/certs/www/domain/", json={"domain": domain}, headers=mallory.auth)
    body = assert_deis_error(r, 503)
    assert "cannot load certificate" in body["detail"], body
    assert_private(body["detail"], engine_settings, victim)
    assert (await router_client.get("/", headers={"Host": domain})).status_code == 200  # plain http still served
    await assert_unharmed(api, router_client, engine_settings, victim)
    r = await api.post(f"/v2/apps/{victim.app}/settings/", json={"maintenance": True}, headers=victim.auth)
    assert r.status_code == 201, r.text
    assert await routable(router_client, engine_settings, victim) == 503
