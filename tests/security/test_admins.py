"""Item 10: administrators. The first-user rule applies to an empty user table only (and two concurrent
first registrations cannot both become administrators); while other users remain, the last active
administrator cannot be demoted or cancelled (409); the last user of all may still cancel."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import update

from tests.conftest import make_database
from workflow.config import Settings
from workflow.main import create_app
from workflow.models import User

from .conftest import assert_tenant_unharmed

pytestmark = pytest.mark.engine

LAST = ("owner is the last administrator: make another user an administrator first (the last user of all may "
        "cancel their account)")


async def test_the_last_admin_cannot_be_demoted_or_cancelled(api, platform, owner, mallory, victim,
                                                             router_client, engine_settings):
    r = await api.delete("/v2/admin/perms/owner", headers=owner)
    assert (r.status_code, r.json()) == (409, {"detail": LAST})
    # Without apps of their own (the other 409), the last admin still cannot go while mallory remains.
    r = await api.post("/v2/apps/", json={"id": "spare"}, headers=owner)
    assert r.status_code == 201
    r = await api.post(f"/v2/apps/{victim[1]}/", json={"owner": "mallory"}, headers=owner)
    assert r.status_code == 200
    r = await api.post("/v2/apps/spare/", json={"owner": "mallory"}, headers=owner)
    assert r.status_code == 200
    r = await api.delete("/v2/auth/cancel/", headers=owner)
    assert (r.status_code, r.json()) == (409, {"detail": LAST})
    assert (await api.get("/v2/admin/perms/", headers=owner)).json()["count"] == 1
    r = await api.post(f"/v2/apps/{victim[1]}/", json={"owner": "owner"}, headers=owner)  # back to its owner
    assert r.status_code == 200
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


async def test_no_registration_takes_over_a_platform_whose_admin_is_inactive(api, platform, owner, victim,
                                                                            router_client, engine_settings):
    ctx = platform.state.ctx
    ctx.settings.registration_mode = "admin_only"
    async with ctx.sessions() as session:  # the only administrator disabled (no API does that)
        await session.execute(update(User).where(User.username == "owner").values(is_active=False))
        await session.commit()
    r = await api.post("/v2/auth/register/", json={"username": "usurper", "password": "pw"})
    assert r.status_code == 403
    async with ctx.sessions() as session:
        await session.execute(update(User).where(User.username == "owner").values(is_active=True))
        await session.commit()
    await assert_tenant_unharmed(api, router_client, engine_settings, victim)


@pytest.fixture
def empty_database(tmp_path) -> str:
    return make_database(None, tmp_path)  # a platform of its own, no users


async def test_concurrent_first_registrations_make_one_admin_and_the_last_user_may_cancel(tmp_path, empty_database):
    url = empty_database
    settings = Settings(data_dir=tmp_path, database_url=url, secret_key="test-secret", router_enabled=False,
                        scheduler_enabled=False, registration_mode="admin_only")
    application = create_app(settings)
    async with application.router.lifespan_context(application), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://testserver") as client:
        answers = await asyncio.gather(*(client.post("/v2/auth/register/", json={"username": f"u{i}",
                                                                                 "password": "pw"})
                                         for i in range(8)))
        created = [r.json() for r in answers if r.status_code == 201]
        assert [u["is_superuser"] for u in created] == [True]  # the others: 403 (admin_only, not first)
        assert {r.status_code for r in answers} == {201, 403}
        first = created[0]["username"]
        # The Go CLI's teardown, `deis auth:cancel --username=U --password=P --yes`: log in, then cancel U.
        token = (await client.post("/v2/auth/login/", json={"username": first, "password": "pw"})).json()["token"]
        r = await client.request("DELETE", "/v2/auth/cancel/", json={"username": first},
                                 headers={"Authorization": f"token {token}"})
        assert r.status_code == 204
        r = await client.post("/v2/auth/register/", json={"username": "next", "password": "pw"})
        assert r.status_code == 201 and r.json()["is_superuser"] is True
