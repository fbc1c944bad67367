"""The failing cases API fuzzing found (tests/fuzz/test_schemathesis.py, probes with odd input), kept as
regression tests. API only (no engine), so they run on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

HUGE = str(10**30)  # beyond a 64-bit SQL integer


async def new_app(client, auth, name: str = "fuzzed") -> str:
    r = await client.post("/v2/apps/", json={"id": name}, headers=auth)
    assert r.status_code == 201, r.text
    return name


class TestHugeNumbersInQueries:
    """Numbers beyond 64 bits reached SQL (LIMIT, OFFSET, a version) and failed with 500."""

    @pytest.mark.parametrize("query", [f"limit={HUGE}", f"offset={HUGE}", f"limit={HUGE}&offset={HUGE}",
                                       f"limit=-{HUGE}&offset=-{HUGE}"])
    async def test_pagination(self, client, admin, query):
        _, auth = admin
        await new_app(client, auth)
        for path in ("/v2/apps/", "/v2/apps/fuzzed/releases/", "/v2/users/"):
            r = await client.get(f"{path}?{query}", headers=auth)
            assert r.status_code == 200, (path, r.text)
            assert r.json()["count"] >= 1

    async def test_huge_offset_is_an_empty_page(self, client, admin):
        _, auth = admin
        await new_app(client, auth)
        r = await client.get(f"/v2/apps/?offset={HUGE}", headers=auth)
        assert r.json()["results"] == [] and r.json()["count"] == 1

    @pytest.mark.parametrize("version", [HUGE, str(2**31)])  # the version column is a 32-bit INTEGER
    async def test_release_version(self, client, admin, version):
        _, auth = admin
        await new_app(client, auth)
        r = await client.get(f"/v2/apps/fuzzed/releases/v{version}/", headers=auth)
        assert (r.status_code, r.json()) == (404, "No Release matches the given query.")

    @pytest.mark.parametrize("version", [10**30, 2**31])
    async def test_rollback_version(self, client, admin, version):
        """Found by the fuzzer on PostgreSQL: `value out of int32 range`."""
        _, auth = admin
        await new_app(client, auth)
        r = await client.post("/v2/apps/fuzzed/releases/rollback/", json={"version": version}, headers=auth)
        assert (r.status_code, r.json()) == (400, {"detail": "Release matching query does not exist."})

    @pytest.mark.parametrize("lines", [HUGE, f"-{HUGE}", "-5"])
    async def test_log_lines(self, client, admin, lines):
        _, auth = admin
        await new_app(client, auth)
        r = await client.get(f"/v2/apps/fuzzed/logs?log_lines={lines}", headers=auth)
        assert r.status_code in (200, 204), r.text
        if lines.startswith("-"):
            assert r.status_code == 204 and r.content == b""


class TestUnicodeDigits:
    async def test_release_version_superscript(self, client, admin):
        """`"²".isdigit()` is true but `int("²")` fails: this was a 500."""
        _, auth = admin
        await new_app(client, auth)
        r = await client.get("/v2/apps/fuzzed/releases/v²/", headers=auth)
        assert (r.status_code, r.json()) == (404, "No Release matches the given query.")
        assert (await client.get("/v2/apps/fuzzed/releases/v1/", headers=auth)).status_code == 200


class TestLoneSurrogates:
    """JSON may escape half a UTF-16 pair (`"\\ud800"`); Python decodes it to a string that no UTF-8
    encoder takes, so hashing a password or querying a user with it was a 500."""

    @pytest.mark.parametrize(("path", "field"), [("/v2/auth/passwd/", "new_password"),
                                                 ("/v2/auth/tokens/", "username"),
                                                 ("/v2/auth/register/", "username"),
                                                 ("/v2/auth/login/", "password"),
                                                 ("/v2/apps/", "id")])
    async def test_refused(self, client, admin, path, field):
        _, auth = admin
        body = b'{"%s": "x\\ud800"}' % field.encode()
        r = await client.post(path, content=body, headers={**auth, "Content-Type": "application/json"})
        assert r.status_code == 400, r.text
        assert r.json()["detail"].startswith("JSON parse error")
        assert (await client.get("/v2/auth/whoami/", headers=auth)).status_code == 200  # token unchanged

    async def test_nested_json_string(self, client, admin):
        _, auth = admin
        await new_app(client, auth)
        body = b'{"values": "{\\"A\\": \\"\\\\ud800\\"}"}'
        r = await client.post("/v2/apps/fuzzed/config/", content=body,
                              headers={**auth, "Content-Type": "application/json"})
        assert r.status_code == 400, r.text

    async def test_pairs_still_accepted(self, client, admin):
        _, auth = admin
        body = b'{"id": "k", "public": "x"}'
        r = await client.post("/v2/keys/", content=body.replace(b'"k"', b'"k\\ud83d\\ude00"'),
                              headers={**auth, "Content-Type": "application/json"})
        assert r.status_code == 400 and "JSON parse error" not in r.text


class TestScaleCounts:
    """`int(Infinity)` raised OverflowError (a 500), and any count was tried, however large."""

    @pytest.mark.parametrize(("raw", "reason"), [(b"Infinity", "cannot convert float infinity to integer"),
                                                 (b"-Infinity", "cannot convert float infinity to integer"),
                                                 (HUGE.encode(), "['Must be less than or equal to 2147483647']"),
                                                 (b"2147483648", "['Must be less than or equal to 2147483647']")])
    async def test_refused(self, client, admin, raw, reason):
        _, auth = admin
        await new_app(client, auth)
        r = await client.post("/v2/apps/fuzzed/scale/", content=b'{"cmd": ' + raw + b"}",
                              headers={**auth, "Content-Type": "application/json"})
        assert (r.status_code, r.json()) == (400, {"detail": f"Invalid scaling format: {reason}"})
        assert (await client.get("/v2/apps/fuzzed/", headers=auth)).json()["structure"] == {}


class TestNulCharacters:
    """PostgreSQL refuses NUL in text and jsonb: a NUL in a path parameter or a body string was a 500 there
    (SQLite stores it). Now 404 for paths, and DRF's CharField answer for bodies, on both databases."""

    @pytest.mark.parametrize("path", ["/v2/keys/a%00b", "/v2/certs/%00", "/v2/certs/a%00/domain/b%00",
                                      "/v2/apps/fuzzed/domains/a%00b", "/v2/apps/fuzzed/perms/a%00b",
                                      "/v2/admin/perms/a%00b", "/v2/apps/fuzzed/builds/a%00b/"])
    async def test_path(self, client, admin, path):
        _, auth = admin
        await new_app(client, auth)
        for method in ("GET", "DELETE"):
            r = await client.request(method, path, headers=auth)
            assert r.status_code in (404, 405), (method, r.text)
            if r.status_code == 404:
                assert r.json() == {"detail": "Not found."}

    @pytest.mark.parametrize(("method", "path", "body", "field"), [
        ("POST", "/v2/auth/tokens/", {"username": "a\x00b"}, "username"),
        ("DELETE", "/v2/auth/cancel/", {"username": "\x00"}, "username"),
        ("POST", "/v2/apps/fuzzed/config/", {"values": {"A": "x\x00"}}, "values"),
        ("POST", "/v2/apps/fuzzed/settings/", {"label": {"a\x00": "b"}}, "label"),
        ("POST", "/v2/keys/", {"id": "k\x00", "public": "ssh-rsa AAAA"}, "id"),
    ])
    async def test_body(self, client, admin, method, path, body, field):
        _, auth = admin
        await new_app(client, auth)
        r = await client.request(method, path, json=body, headers=auth)
        assert (r.status_code, r.json()) == (400, {field: ["Null characters are not allowed."]})
        assert (await client.get("/v2/auth/whoami/", headers=auth)).status_code == 200
        assert (await client.get("/v2/apps/fuzzed/releases/", headers=auth)).json()["count"] == 1
