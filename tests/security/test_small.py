"""Item 11, the smaller ones: owner-only files and socket; an empty secret-key file refused; image names
and registry host names validated before they reach Engine API paths; collaborators cannot clear the
whitelist through `settings`; `{"all": false}` regenerates only the caller's token; a non-ASCII token is
a 401; /metrics labels stay bounded."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import running_server
from workflow.config import Settings
from workflow.domain.images import HOSTNAME_TEXT
from workflow.main import create_app

from .conftest import api_host, app_name, assert_tenant_unharmed

pytestmark = pytest.mark.engine


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_dir_database_and_api_socket_are_owner_only(tmp_path, test_images):
    with running_server(tmp_path) as server:
        data = server.data_dir
        assert mode(data) == 0o700
        assert mode(data / "workflow.db") == 0o600
        assert mode(data / "secret_key") == 0o600
        assert stat.S_ISSOCK((data / "api.sock").stat().st_mode) and mode(data / "api.sock") == 0o600
        # nginx (its workers run as the platform's user) still reaches the API on it
        r = httpx.post(f"{server.url}/v2/auth/register/", json={"username": "first", "password": "pw"})
        assert r.status_code == 201 and r.json()["is_superuser"] is True


async def test_an_empty_secret_key_file_is_refused(database_url, tmp_path):
    (tmp_path / "secret_key").write_text("\n")
    application = create_app(Settings(data_dir=tmp_path, database_url=database_url, router_enabled=False,
                                      scheduler_enabled=False))
    with pytest.raises(ValueError, match="secret key file .* is empty"):
        async with application.router.lifespan_context(application):
            pass


@pytest.mark.parametrize("image", ["../../containers/json", "test/web:latest?x=1", "test/web:latest\n",
                                   "Test/Web", "a/../b", "x" * 600])
async def test_image_names_are_validated_before_the_engine(api, mallory, victim, router_client, engine_settings,
                                                           image):
    app_id = app_name()
    assert (await api.post("/v2/apps/", json={"id": app_id}, headers=mallory)).status_code == 201
    r = await api.post(f"/v2/apps/{app_id}/builds/", json={"image": image}, headers=mallory)
    assert r.status_code == 400 and list(r.json()) == ["image"], r.text
    assert (await api.get(f"/v2/apps/{app_id}/builds/", headers=mallory)).json()["count"] == 0
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_registry_host_names_are_validated(api, mallory, victim, router_client, engine_settings):
    app_id = app_name()
    assert (await api.post("/v2/apps/", json={"id": app_id}, headers=mallory)).status_code == 201
    for hostname in ("registry/../../v1.41/containers", "reg.example.com\n", "a b", ""):
        r = await api.post(f"/v2/apps/{app_id}/config/", json={"values": {"PORT": "8080"}, "registry": {
            "username": "u", "password": "p", "hostname": hostname}}, headers=mallory)
        assert (r.status_code, r.json()) == (400, {"registry": [HOSTNAME_TEXT]}), hostname
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_a_collaborator_cannot_clear_the_whitelist_through_settings(api, mallory, victim, router_client,
                                                                         engine_settings):
    auth, app_id = victim
    assert (await api.post(f"/v2/apps/{app_id}/perms/", json={"username": "mallory"}, headers=auth)).status_code == 201
    r = await api.post(f"/v2/apps/{app_id}/whitelist/", json={"addresses": ["127.0.0.1", "10.1.2.3"]}, headers=auth)
    assert r.status_code == 201
    # DELETE is the owner's; replacing the list with fewer entries is a removal too.
    r = await api.request("DELETE", f"/v2/apps/{app_id}/whitelist/", json={"addresses": ["10.1.2.3"]},
                          headers=mallory)
    assert r.status_code == 403
    for whitelist in ([], ["127.0.0.1"], ["0.0.0.0/0"]):
        r = await api.post(f"/v2/apps/{app_id}/settings/", json={"whitelist": whitelist}, headers=mallory)
        assert (r.status_code, r.json()) == (403, {"detail": "You do not have permission to perform this action."})
    # adding stays a collaborator's right, as with POST /whitelist/
    r = await api.post(f"/v2/apps/{app_id}/settings/", json={"whitelist": ["127.0.0.1", "10.1.2.3", "10.9.9.9"]},
                       headers=mallory)
    assert r.status_code == 201
    r = await api.get(f"/v2/apps/{app_id}/whitelist/", headers=auth)
    assert sorted(r.json()["addresses"]) == ["10.1.2.3", "10.9.9.9", "127.0.0.1"]
    assert (await api.post(f"/v2/apps/{app_id}/settings/", json={"whitelist": []}, headers=auth)).status_code == 201
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_all_false_regenerates_only_the_callers_token(api, owner, mallory, victim, router_client,
                                                            engine_settings):
    for caller, other in ((mallory, owner), (owner, mallory)):  # a user, then an administrator
        r = await api.post("/v2/auth/tokens/", json={"all": False}, headers=caller)
        assert r.status_code == 200, r.text
        assert (await api.get("/v2/auth/whoami/", headers=caller)).status_code == 401  # the old one is gone
        caller["Authorization"] = f"token {r.json()['token']}"
        assert (await api.get("/v2/auth/whoami/", headers=caller)).status_code == 200
        assert (await api.get("/v2/auth/whoami/", headers=other)).status_code == 200  # untouched
    r = await api.post("/v2/auth/tokens/", json={"all": True}, headers=mallory)
    assert r.status_code == 403
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_a_non_ascii_token_is_a_401(api, platform, served, router_client, owner, victim, engine_settings):
    platform.state.ctx.settings.metrics_token = "scraper-secret"
    host = api_host(engine_settings)
    for path, value in (("/v2/apps/", "token caf\xe9"), ("/v2/apps/", "token \xff\xfe"),
                        ("/metrics", "Bearer caf\xe9")):
        r = await router_client.get(path, headers=[(b"Host", host["Host"].encode()),
                                                   (b"Authorization", value.encode("latin-1"))])
        assert r.status_code == 401, (path, r.text)
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_metrics_labels_stay_bounded(api, owner, victim, router_client, engine_settings):
    for method in ("BREW", "X" * 40, "PROPFIND"):
        assert (await api.request(method, "/v2/apps/", headers=owner)).status_code == 405
    text = (await api.get("/metrics", headers=owner)).text
    methods = {line.split('method="')[1].split('"')[0] for line in text.splitlines()
               if line.startswith("workflow_http_requests_total{")}
    assert "other" in methods and methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)
