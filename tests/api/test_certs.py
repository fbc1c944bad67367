"""Certificates (spec §3.10, §4.9): upload (fields derived from the PEM), list, get, delete, attach, detach;
owner-scoped; the private key is stored encrypted."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.certgen import make_cert
from workflow.models import Certificate, Domain

FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NO_CERT = "No Certificate matches the given query."
NO_DOMAIN = "No Domain matches the given query."
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture(scope="module")
def pem():
    return make_cert("www.example.com", ["www.example.com", "example.com"])


async def upload(client, auth, name: str, pem):
    return await client.post("/v2/certs/", json={"name": name, "certificate": pem.certificate, "key": pem.key},
                             headers=auth)


async def make_app(client, auth, app_id: str, *domains: str) -> None:
    r = await client.post("/v2/apps/", json={"id": app_id}, headers=auth)
    assert r.status_code == 201, r.text
    for domain in domains:
        r = await client.post(f"/v2/apps/{app_id}/domains/", json={"domain": domain}, headers=auth)
        assert r.status_code == 201, r.text


async def attach(client, auth, name: str, domain: str):
    return await client.post(f"/v2/certs/{name}/domain/", json={"domain": domain}, headers=auth)


class TestUpload:
    async def test_fields_from_the_pem(self, client, app, alice, pem):
        r = await upload(client, alice[1], "www-example", pem)
        assert r.status_code == 201, r.text
        body = r.json()
        assert set(body) == {"id", "name", "owner", "common_name", "fingerprint", "expires", "starts", "issuer",
                             "subject", "san", "domains", "created", "updated"}
        assert isinstance(body["id"], int)
        assert body["name"] == "www-example"
        assert body["owner"] == "alice"
        assert body["common_name"] == "www.example.com"
        assert body["san"] == ["www.example.com", "example.com"]
        assert body["fingerprint"] == pem.fingerprint
        assert body["subject"] == "/C=US/ST=CA/L=San Francisco/O=Deis/CN=www.example.com"
        assert body["issuer"] == body["subject"]
        assert body["domains"] == []
        for field in ("expires", "starts", "created", "updated"):
            assert TIMESTAMP.match(body[field]), field
        assert body["starts"] < body["expires"]
        async with app.state.ctx.sessions() as session:
            row = await session.scalar(select(Certificate).where(Certificate.name == "www-example"))
        assert "PRIVATE KEY" not in row.key
        assert app.state.ctx.cipher.decrypt(row.key).strip() == pem.key.strip()

    async def test_no_common_name_no_san_rsa(self, client, alice):
        pem = make_cert(None, None, rsa_key=True, subject_extra=True)
        r = await upload(client, alice[1], "plain", pem)
        assert r.status_code == 201, r.text
        assert r.json()["common_name"] is None
        assert r.json()["san"] == []
        assert r.json()["subject"] == "/C=US/ST=CA/L=San Francisco/O=Deis"

    async def test_expired_certificate_accepted(self, client, alice):
        r = await upload(client, alice[1], "old", make_cert("old.example.com", expired=True))
        assert r.status_code == 201, r.text

    async def test_extra_fields_ignored(self, client, alice, pem):
        r = await client.post("/v2/certs/", json={"name": "x", "certificate": pem.certificate, "key": pem.key,
                                                  "common_name": "evil", "san": ["evil"]}, headers=alice[1])
        assert r.status_code == 201
        assert r.json()["common_name"] == "www.example.com"

    @pytest.mark.parametrize("name, message", [
        ("Upper", "Can only contain a-z (lowercase), 0-9 and hyphens"),
        ("under_score", "Can only contain a-z (lowercase), 0-9 and hyphens"),
        ("", "This field may not be blank."),
        ("a" * 254, "Ensure this field has no more than 253 characters."),
    ])
    async def test_bad_names(self, client, alice, pem, name, message):
        r = await upload(client, alice[1], name, pem)
        assert (r.status_code, r.json()) == (400, {"name": [message]})

    async def test_duplicate_name_global(self, client, alice, bob, pem):
        assert (await upload(client, alice[1], "taken", pem)).status_code == 201
        r = await upload(client, bob[1], "taken", pem)
        assert (r.status_code, r.json()) == (400, {"name": ["Certificate with this name already exists."]})

    async def test_required(self, client, alice):
        r = await client.post("/v2/certs/", content=b"", headers={**alice[1], "Content-Type": "application/json"})
        assert r.status_code == 400
        assert r.json() == {f: ["This field is required."] for f in ("name", "certificate", "key")}

    async def test_unreadable_certificate_and_key(self, client, alice):
        r = await client.post("/v2/certs/", json={"name": "bad", "certificate": "nope", "key": "nope"},
                              headers=alice[1])
        assert r.status_code == 400
        body = r.json()
        assert set(body) == {"certificate", "key"}
        assert body["certificate"][0].startswith("Could not load certificate: ")
        assert body["key"][0].startswith("Could not load private key: ")

    async def test_key_of_another_certificate(self, client, alice, pem):
        other = make_cert("other.example.com")
        r = await client.post("/v2/certs/", json={"name": "mix", "certificate": pem.certificate, "key": other.key},
                              headers=alice[1])
        assert r.status_code == 400
        assert r.json()["key"][0].startswith("Could not load private key: ")


class TestReadDelete:
    async def test_list_own_sorted_and_paged(self, client, alice, bob, pem):
        for name in ("b-cert", "a-cert", "c-cert"):
            assert (await upload(client, alice[1], name, pem)).status_code == 201
        await upload(client, bob[1], "bobs", pem)
        r = await client.get("/v2/certs/?limit=2", headers=alice[1])
        body = r.json()
        assert body["count"] == 3
        assert [c["name"] for c in body["results"]] == ["a-cert", "b-cert"]
        assert body["next"] is not None

    async def test_get(self, client, alice, pem):
        await upload(client, alice[1], "one", pem)
        r = await client.get("/v2/certs/one", headers=alice[1])
        assert r.status_code == 200
        assert r.json()["name"] == "one"
        assert (await client.get("/v2/certs/one/", headers=alice[1])).status_code == 200

    async def test_others_certs_404_admins_too(self, client, admin, alice, bob, pem):
        await upload(client, alice[1], "private", pem)
        for auth in (bob[1], admin[1]):
            assert (await client.get("/v2/certs/private", headers=auth)).json() == NO_CERT
            r = await client.delete("/v2/certs/private", headers=auth)
            assert (r.status_code, r.json()) == (404, NO_CERT)
            r = await attach(client, auth, "private", "x.example.com")
            assert (r.status_code, r.json()) == (404, NO_CERT)
        assert (await client.get("/v2/certs/", headers=admin[1])).json()["count"] == 0

    async def test_delete_detaches(self, client, app, alice, pem):
        await make_app(client, alice[1], "site", "www.example.com")
        await upload(client, alice[1], "gone", pem)
        assert (await attach(client, alice[1], "gone", "www.example.com")).status_code == 201
        r = await client.delete("/v2/certs/gone", headers=alice[1])
        assert r.status_code == 204 and r.content == b""
        assert (await client.get("/v2/certs/gone", headers=alice[1])).status_code == 404
        async with app.state.ctx.sessions() as session:
            domain = await session.scalar(select(Domain).where(Domain.domain == "www.example.com"))
        assert domain.certificate_id is None

    async def test_owner_cannot_be_cancelled_while_holding_certs(self, client, alice, pem):
        await upload(client, alice[1], "kept", pem)
        r = await client.request("DELETE", "/v2/auth/cancel/", headers=alice[1])
        assert r.status_code == 409


class TestAttachDetach:
    async def test_attach_shows_domains_and_detach(self, client, alice, pem):
        await make_app(client, alice[1], "site", "www.example.com", "example.com")
        await upload(client, alice[1], "www", pem)
        r = await attach(client, alice[1], "www", "www.example.com")
        assert r.status_code == 201 and r.content == b""
        r = await client.post("/v2/certs/www/domain/example.com", headers=alice[1])  # domain in the path
        assert r.status_code == 201, r.text
        assert (await client.get("/v2/certs/www", headers=alice[1])).json()["domains"] == [
            "example.com", "www.example.com"]
        r = await client.delete("/v2/certs/www/domain/www.example.com", headers=alice[1])
        assert r.status_code == 204
        assert (await client.get("/v2/certs/www", headers=alice[1])).json()["domains"] == ["example.com"]
        r = await client.delete("/v2/certs/www/domain/www.example.com", headers=alice[1])
        assert (r.status_code, r.json()) == (404, NO_DOMAIN)

    async def test_unicode_domain_either_spelling(self, client, alice, pem):
        await make_app(client, alice[1], "site", "ドメイン.テスト")
        await upload(client, alice[1], "idn", pem)
        r = await attach(client, alice[1], "idn", "ドメイン.テスト")
        assert r.status_code == 201, r.text
        domains = (await client.get("/v2/certs/idn", headers=alice[1])).json()["domains"]
        assert domains == ["xn--eckwd4c7c.xn--zckzah"]
        r = await client.delete(f"/v2/certs/idn/domain/{domains[0]}", headers=alice[1])
        assert r.status_code == 204

    async def test_domain_required(self, client, alice, pem):
        await upload(client, alice[1], "c", pem)
        for body in ({}, {"domain": ""}):
            r = await client.post("/v2/certs/c/domain/", json=body, headers=alice[1])
            assert (r.status_code, r.json()) == (400, {"detail": "domain is a required field"})

    async def test_unknown_domain_and_cert(self, client, alice, pem):
        await upload(client, alice[1], "c", pem)
        r = await attach(client, alice[1], "c", "nowhere.example.com")
        assert (r.status_code, r.json()) == (404, NO_DOMAIN)
        r = await attach(client, alice[1], "nope", "nowhere.example.com")
        assert (r.status_code, r.json()) == (404, NO_CERT)
        r = await client.delete("/v2/certs/nope/domain/nowhere.example.com", headers=alice[1])
        assert (r.status_code, r.json()) == (404, NO_CERT)

    async def test_already_attached_409(self, client, alice, pem):
        await make_app(client, alice[1], "site", "www.example.com")
        await upload(client, alice[1], "one", pem)
        await upload(client, alice[1], "two", pem)
        assert (await attach(client, alice[1], "one", "www.example.com")).status_code == 201
        r = await attach(client, alice[1], "two", "www.example.com")
        assert (r.status_code, r.json()) == (409, {"detail": "Domain already has a certificate attached to it"})
        # detaching with the other certificate does not touch the attached one
        r = await client.delete("/v2/certs/two/domain/www.example.com", headers=alice[1])
        assert (r.status_code, r.json()) == (404, NO_DOMAIN)

    async def test_domain_of_an_app_without_access_403(self, client, alice, bob, pem):
        await make_app(client, alice[1], "site", "www.example.com")
        await upload(client, bob[1], "bobs", pem)
        r = await attach(client, bob[1], "bobs", "www.example.com")
        assert (r.status_code, r.json()) == (403, FORBIDDEN)
        # once shared, a collaborator may attach their certificate
        await client.post("/v2/apps/site/perms/", json={"username": "bob"}, headers=alice[1])
        assert (await attach(client, bob[1], "bobs", "www.example.com")).status_code == 201

    async def test_removing_the_domain_detaches(self, client, alice, pem):
        await make_app(client, alice[1], "site", "www.example.com")
        await upload(client, alice[1], "c", pem)
        await attach(client, alice[1], "c", "www.example.com")
        assert (await client.delete("/v2/apps/site/domains/www.example.com", headers=alice[1])).status_code == 204
        assert (await client.get("/v2/certs/c", headers=alice[1])).json()["domains"] == []
