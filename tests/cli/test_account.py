"""domains, perms, users, keys, certs."""

from __future__ import annotations

from datetime import UTC, datetime

from cli.commands.certs import expires_text
from tests.cli.conftest import assert_auth, page, reply, sent_json

PUBLIC = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKx0123456789abcdefghijklmnopqrstuvwxyz bob@laptop"


class TestDomains:
    def test_list(self, deis, profile, api):
        api.get("/v2/apps/myapp/domains/").mock(return_value=reply(200, page([{"domain": "myapp"}], count=2)))
        assert deis("domains").stdout == "=== myapp Domains (1 of 2)\nmyapp\n"

    def test_add_remove(self, deis, profile, api):
        post = api.post("/v2/apps/myapp/domains/").mock(return_value=reply(201, {"domain": "www.x.org"}))
        delete = api.delete("/v2/apps/myapp/domains/www.x.org").mock(return_value=reply(204))
        assert deis("domains:add", "www.x.org").stdout == "Adding www.x.org to myapp... done\n"
        assert sent_json(post.calls[0].request) == {"domain": "www.x.org"}
        assert deis("domains:remove", "www.x.org").stdout == "Removing www.x.org from myapp... done\n"
        assert_auth(delete.calls[0].request)

    def test_invalid(self, deis, profile, api):
        api.post("/v2/apps/myapp/domains/").mock(return_value=reply(400, {"domain": ["Hostname does not look valid."]}))
        assert deis("domains:add", "1.2.3.4").stderr == "Error: Hostname does not look valid.\n"


class TestPerms:
    def test_app_list(self, deis, profile, api):
        api.get("/v2/apps/myapp/perms/").mock(return_value=reply(200, {"users": ["carol", "dave"]}))
        assert deis("perms:list").stdout == "=== myapp's Users\ncarol\ndave\n"

    def test_admin_list(self, deis, profile, api):
        route = api.get("/v2/admin/perms/").mock(
            return_value=reply(200, page([{"username": "bob", "is_superuser": True}]))
        )
        assert deis("perms:list", "--admin").stdout == "=== Administrators\nbob\n"
        assert route.calls[0].request.url.params["limit"] == "100"

    def test_create_delete(self, deis, profile, api):
        post = api.post("/v2/apps/myapp/perms/").mock(return_value=reply(201))
        delete = api.delete("/v2/apps/myapp/perms/carol").mock(return_value=reply(204))
        assert deis("perms:create", "carol").stdout == "Adding carol to myapp collaborators... done\n"
        assert sent_json(post.calls[0].request) == {"username": "carol"}
        assert deis("perms:delete", "carol").stdout == "Removing carol from myapp collaborators... done\n"
        assert delete.called

    def test_admin_create_delete(self, deis, profile, api):
        post = api.post("/v2/admin/perms/").mock(return_value=reply(201))
        api.delete("/v2/admin/perms/carol").mock(return_value=reply(204))
        assert deis("perms:create", "carol", "--admin").stdout == "Adding carol to system administrators... done\n"
        assert sent_json(post.calls[0].request) == {"username": "carol"}
        assert deis("perms:delete", "carol", "--admin").stdout == (
            "Removing carol from system administrators... done\n"
        )

    def test_unknown_user(self, deis, profile, api):
        api.post("/v2/apps/myapp/perms/").mock(return_value=reply(404, "No User matches the given query."))
        result = deis("perms:create", "nobody")
        assert result.stdout == "Adding nobody to myapp collaborators... "
        assert result.stderr == 'Error: "No User matches the given query."\n'


def test_users_list(deis, profile, api):
    api.get("/v2/users/").mock(
        return_value=reply(
            200,
            page(
                [
                    {"username": "bob", "is_superuser": True},
                    {"username": "carol", "is_superuser": False},
                ]
            ),
        )
    )
    assert deis("users").stdout == "=== Users (*=admin)\n*bob\ncarol\n"


def test_users_list_forbidden(deis, profile, api):
    api.get("/v2/users/").mock(
        return_value=reply(403, {"detail": "You do not have permission to perform this action."})
    )
    result = deis("users:list")
    assert result.exit_code == 1
    assert result.stderr == "Error: You do not have permission to perform this action.\n"


class TestKeys:
    def test_list(self, deis, profile, api):
        api.get("/v2/keys/").mock(
            return_value=reply(
                200,
                page(
                    [
                        {"id": "bob@laptop", "public": PUBLIC},
                        {"id": "ci", "public": PUBLIC},
                    ]
                ),
            )
        )
        assert deis("keys").stdout == (
            "=== bob Keys\nbob@laptop ssh-ed25519 AAAA...bob@laptop\nci         ssh-ed25519 AAAA...bob@laptop\n"
        )

    def test_add_file(self, deis, profile, api, tmp_path):
        key = tmp_path / "id_ed25519.pub"
        key.write_text(PUBLIC + "\n")
        post = api.post("/v2/keys/").mock(return_value=reply(201, {}))
        result = deis("keys:add", str(key))
        assert result.exit_code == 0, result.output
        assert result.stdout == "Uploading id_ed25519.pub to deis... done\n"
        assert sent_json(post.calls[0].request) == {"id": "bob@laptop", "public": PUBLIC}

    def test_add_without_comment_uses_file_name(self, deis, profile, api, tmp_path):
        key = tmp_path / "deploy.pub"
        key.write_text(" ".join(PUBLIC.split()[:2]))
        post = api.post("/v2/keys/").mock(return_value=reply(201, {}))
        deis("keys:add", str(key))
        assert sent_json(post.calls[0].request)["id"] == "deploy"

    def test_add_invalid(self, deis, profile, tmp_path):
        key = tmp_path / "bad.pub"
        key.write_text("hello")
        assert deis("keys:add", str(key)).stderr == f"Error: {key} is not a valid ssh key\n"

    def test_add_rejected(self, deis, profile, api, tmp_path):
        key = tmp_path / "k.pub"
        key.write_text(PUBLIC)
        api.post("/v2/keys/").mock(return_value=reply(400, {"public": ["Key contains invalid base64 chars"]}))
        result = deis("keys:add", str(key))
        assert result.stdout == "Uploading k.pub to deis...\n"
        assert result.stderr == "Error: A key is required\n"

    def test_remove(self, deis, profile, api):
        route = api.delete("/v2/keys/bob@laptop").mock(return_value=reply(204))
        assert deis("keys:remove", "bob@laptop").stdout == "Removing bob@laptop SSH Key... done\n"
        assert_auth(route.calls[0].request)


CERT = {
    "id": 1,
    "name": "www",
    "owner": "bob",
    "common_name": "www.x.org",
    "fingerprint": "AB:CD:EF:01:23:45",
    "expires": "2030-01-02T00:00:00Z",
    "starts": "2020-01-02T00:00:00Z",
    "issuer": "/CN=ca",
    "subject": "/CN=www.x.org",
    "san": ["www.x.org"],
    "domains": [],
    "created": "2024-05-06T00:00:00Z",
    "updated": "2024-05-07T00:00:00Z",
}


class TestCerts:
    def test_list_empty(self, deis, profile, api):
        api.get("/v2/certs/").mock(return_value=reply(200, page([])))
        assert deis("certs").stdout == "No certs\n"

    def test_list(self, deis, profile, api):
        api.get("/v2/certs/").mock(return_value=reply(200, page([CERT])))
        out = deis("certs:list").stdout
        assert "Name" in out and "www.x.org" in out and "AB:CD[...]23:45" in out and "2 Jan 2030" in out

    def test_add(self, deis, profile, api, tmp_path):
        (tmp_path / "c.pem").write_text("CERT")
        (tmp_path / "k.pem").write_text("KEY")
        post = api.post("/v2/certs/").mock(return_value=reply(201, CERT))
        result = deis("certs:add", "www", str(tmp_path / "c.pem"), str(tmp_path / "k.pem"))
        assert result.exit_code == 0, result.output
        assert result.stdout == "Adding SSL endpoint... done\n"
        assert sent_json(post.calls[0].request) == {"name": "www", "certificate": "CERT", "key": "KEY"}

    def test_add_bad_cert(self, deis, profile, api, tmp_path):
        (tmp_path / "c.pem").write_text("x")
        api.post("/v2/certs/").mock(return_value=reply(400, {"certificate": ["Could not load certificate: bad"]}))
        result = deis("certs:add", "www", str(tmp_path / "c.pem"), str(tmp_path / "c.pem"))
        assert result.stderr == "Error: Could not load certificate\n"

    def test_info(self, deis, profile, api):
        api.get("/v2/certs/www").mock(return_value=reply(200, CERT))
        assert deis("certs:info", "www").stdout == (
            "=== www Certificate\n"
            "Common Name(s):     www.x.org\n"
            "Expires At:         2 Jan 2030\n"
            "Starts At:          2 Jan 2020\n"
            "Fingerprint:        AB:CD:EF:01:23:45\n"
            "Subject Alt Name:   www.x.org\n"
            "Issuer:             /CN=ca\n"
            "Subject:            /CN=www.x.org\n"
            "\n"
            "Connected Domains:  No connected domains\n"
            "Owner:              bob\n"
            "Created:            6 May 2024\n"
            "Updated:            7 May 2024\n"
        )

    def test_remove_attach_detach(self, deis, profile, api):
        api.delete("/v2/certs/www").mock(return_value=reply(204))
        post = api.post("/v2/certs/www/domain/").mock(return_value=reply(201))
        api.delete("/v2/certs/www/domain/www.x.org").mock(return_value=reply(204))
        assert deis("certs:remove", "www").stdout == "Removing www... done\n"
        assert deis("certs:attach", "www", "www.x.org").stdout == (
            "Attaching certificate www to domain www.x.org... done\n"
        )
        assert sent_json(post.calls[0].request) == {"domain": "www.x.org"}
        assert deis("certs:detach", "www", "www.x.org").stdout == (
            "Detaching certificate www from domain www.x.org... done\n"
        )

    def test_expires_text(self):
        now = datetime(2024, 1, 10, tzinfo=UTC)
        assert expires_text("2026-01-10T00:00:00Z", now) == "10 Jan 2026 (in 2 years)"
        assert expires_text("2024-03-10T00:00:00Z", now) == "10 Mar 2024 (in 2 months)"
        assert expires_text("2024-01-11T00:00:00Z", now) == "11 Jan 2024 (in 1 day)"
        assert expires_text("2023-01-11T00:00:00Z", now) == "11 Jan 2023 (expired)"
        assert expires_text(None, now) == "unknown"
