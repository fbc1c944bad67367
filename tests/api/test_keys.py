"""SSH keys (spec §3.12, §4.9): add, list, get, remove; fingerprints; owner-scoped."""

from __future__ import annotations

import base64
import hashlib

import pytest

NO_KEY = "No Key matches the given query."
RSA_BLOB = base64.b64encode(b"\x00\x00\x00\x07ssh-rsa" + bytes(range(200))).decode()
ED_BLOB = base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519" + bytes(range(32))).decode()
ECDSA_BLOB = base64.b64encode(b"\x00\x00\x00\x13ecdsa-sha2-nistp256" + bytes(range(100, 180))).decode()
RSA = f"ssh-rsa {RSA_BLOB} alice@laptop"
ED = f"ssh-ed25519 {ED_BLOB} alice@desktop"
ECDSA = f"ecdsa-sha2-nistp256 {ECDSA_BLOB}"


def md5_pairs(blob: str) -> str:
    digest = hashlib.md5(base64.b64decode(blob)).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


async def add(client, auth, key_id: str, public: str):
    return await client.post("/v2/keys/", json={"id": key_id, "public": public}, headers=auth)


class TestAdd:
    async def test_shape_and_fingerprint(self, client, alice):
        r = await add(client, alice[1], "alice@laptop", RSA)
        assert r.status_code == 201, r.text
        body = r.json()
        assert list(body) == ["uuid", "id", "owner", "public", "fingerprint", "created", "updated"]
        assert body["id"] == "alice@laptop"
        assert body["owner"] == "alice"
        assert body["public"] == RSA
        assert body["fingerprint"] == md5_pairs(RSA_BLOB)
        assert len(body["fingerprint"]) == 47 and body["fingerprint"] == body["fingerprint"].lower()

    @pytest.mark.parametrize("public, blob", [(ED, ED_BLOB), (ECDSA, ECDSA_BLOB)])
    async def test_key_types(self, client, alice, public, blob):
        r = await add(client, alice[1], "k1", public)
        assert r.status_code == 201, r.text
        assert r.json()["fingerprint"] == md5_pairs(blob)

    async def test_name_field_ignored(self, client, alice):
        r = await client.post("/v2/keys/", json={"id": "k", "public": RSA, "name": "x"}, headers=alice[1])
        assert r.status_code == 201

    @pytest.mark.parametrize("body, errors", [
        ({}, {"id": ["This field is required."], "public": ["This field is required."]}),
        ({"id": "k"}, {"public": ["This field is required."]}),
        ({"public": RSA}, {"id": ["This field is required."]}),
        ({"id": "", "public": ""},
         {"id": ["This field may not be blank."], "public": ["This field may not be blank."]}),
        ({"id": "k", "public": "ssh-rsa"}, {"public": ["Key contains invalid base64 chars"]}),
        ({"id": "k", "public": "ssh-rsa not*base64!"}, {"public": ["Key contains invalid base64 chars"]}),
        ({"id": "k", "public": "ssh-rsa AAAAB3N"}, {"public": ["Key contains invalid base64 chars"]}),
        ({"id": "k" * 129, "public": RSA}, {"id": ["Ensure this field has no more than 128 characters."]}),
    ])
    async def test_validation(self, client, alice, body, errors):
        r = await client.post("/v2/keys/", json=body, headers=alice[1])
        assert (r.status_code, r.json()) == (400, errors)

    async def test_empty_body(self, client, alice):
        r = await client.post("/v2/keys/", content=b"", headers={**alice[1], "Content-Type": "application/json"})
        assert r.status_code == 400
        assert set(r.json()) == {"id", "public"}

    async def test_public_key_in_use_globally(self, client, alice, bob):
        assert (await add(client, alice[1], "a", RSA)).status_code == 201
        r = await add(client, bob[1], "b", RSA)
        assert (r.status_code, r.json()) == (400, {"public": ["Public Key is already in use"]})

    async def test_id_in_use_globally(self, client, alice, bob):
        assert (await add(client, alice[1], "same", RSA)).status_code == 201
        r = await add(client, bob[1], "same", ED)
        assert (r.status_code, r.json()) == (400, {"id": ["SSH Key with this id already exists."]})

    async def test_anonymous_401(self, client, admin):
        assert (await add(client, {}, "k", RSA)).status_code == 401


class TestListGetRemove:
    async def test_list_own_sorted_by_public(self, client, alice, bob):
        await add(client, alice[1], "one", RSA)
        await add(client, alice[1], "two", ED)
        await add(client, bob[1], "three", ECDSA)
        r = await client.get("/v2/keys/?limit=1", headers=alice[1])
        assert r.status_code == 200
        body = r.json()
        assert body["count"] == 2
        assert [k["id"] for k in body["results"]] == ["two"]  # "ssh-ed25519 ..." < "ssh-rsa ..."
        assert "offset=1" in body["next"]
        r = await client.get("/v2/keys", headers=alice[1])
        assert [k["public"] for k in r.json()["results"]] == sorted([RSA, ED])

    async def test_get_with_at_and_dots(self, client, alice):
        await add(client, alice[1], "alice@my.laptop", RSA)
        r = await client.get("/v2/keys/alice@my.laptop", headers=alice[1])
        assert r.status_code == 200
        assert r.json()["id"] == "alice@my.laptop"

    async def test_others_keys_are_404_even_for_admins(self, client, admin, alice, bob):
        await add(client, alice[1], "mine", RSA)
        for auth in (bob[1], admin[1]):
            r = await client.get("/v2/keys/mine", headers=auth)
            assert (r.status_code, r.json()) == (404, NO_KEY)
            r = await client.delete("/v2/keys/mine", headers=auth)
            assert (r.status_code, r.json()) == (404, NO_KEY)
        r = await client.get("/v2/keys/", headers=admin[1])
        assert r.json()["count"] == 0

    async def test_remove(self, client, alice):
        await add(client, alice[1], "gone", RSA)
        r = await client.delete("/v2/keys/gone", headers=alice[1])
        assert r.status_code == 204 and r.content == b""
        r = await client.get("/v2/keys/gone/", headers=alice[1])
        assert (r.status_code, r.json()) == (404, NO_KEY)
        # the public key is free again
        assert (await add(client, alice[1], "again", RSA)).status_code == 201

    async def test_unknown_404(self, client, alice):
        r = await client.delete("/v2/keys/nothing", headers=alice[1])
        assert (r.status_code, r.json()) == (404, NO_KEY)
