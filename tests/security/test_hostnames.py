"""Issue 18 item 1: a host name routes to exactly one app. Mallory tries to take the victim's default host, the
platform's names, names under the victim's wildcard, wildcards over public suffixes, and an app name the victim
has not created yet."""

from __future__ import annotations

import pytest

from tests.engine.conftest import app_name, host_of
from workflow.models import Domain

from .conftest import assert_deis_error, assert_unharmed, deployed_app

pytestmark = pytest.mark.engine


async def add_domain(api, tenant, domain: str):
    return await api.post(f"/v2/apps/{tenant.app}/domains/", json={"domain": domain}, headers=tenant.auth)


async def test_names_of_other_apps_and_of_the_platform_are_refused(api, router_client, engine_settings, tenants):
    mallory, victim = tenants
    mallory.app = await deployed_app(api, mallory.auth)
    platform_domain = engine_settings.domain
    victim_host = f"{victim.app}.{platform_domain}"
    assert (await add_domain(api, victim, f"*.{victim.app}-corp.example.org")).status_code == 201
    assert (await add_domain(api, victim, f"api.{victim.app}-shop.example.org")).status_code == 201
    attacks = {
        victim_host: "inside the platform domain",  # the renderer gave it to the first app, dropping the other
        victim_host.upper() + ".": "inside the platform domain",
        f"www.{victim_host}": "inside the platform domain",
        victim.app: "inside the platform domain",  # a bare name is APP.DOMAIN
        f"deis.{platform_domain}": "inside the platform domain",
        platform_domain: "inside the platform domain",
        f"*.{platform_domain}": "inside the platform domain",
        "*.com": "public suffix",
        "*.co.uk": "public suffix",
        "*.github.io": "public suffix",
        "co.uk": "public suffix",
        f"api.{victim.app}-shop.example.org": "already in use by another app",
        f"API.{victim.app.upper()}-SHOP.example.org": "already in use by another app",
        f"www.{victim.app}-corp.example.org": "covered by a wildcard",
        f"*.{victim.app}-corp.example.org": "already in use by another app",
        f"*.{victim.app}-shop.example.org": "covers names in use",
        "*.example.org": "covers names in use",
    }
    for domain, why in attacks.items():
        body = assert_deis_error(await add_domain(api, mallory, domain), 400, "domain")
        assert why in body["domain"][0], (domain, body)
    r = await api.get(f"/v2/apps/{mallory.app}/domains/", headers=mallory.auth)
    assert [d["domain"] for d in r.json()["results"]] == [mallory.app]
    # Names under its own app's name are mallory's.
    assert (await add_domain(api, mallory, f"www.{mallory.app}.{platform_domain}")).status_code == 201
    page = await router_client.get("/", headers={"Host": f"www.{mallory.app}.{platform_domain}"})
    assert page.status_code == 200
    await assert_unharmed(api, router_client, engine_settings, victim)


async def test_an_app_name_taken_by_an_older_custom_domain_is_a_clear_400(api, platform, router_client,
                                                                         engine_settings, tenants):
    mallory, victim = tenants
    mallory.app = await deployed_app(api, mallory.auth)
    future = app_name()
    # A custom domain on the victim's future app name, as the platform accepted before (now refused).
    assert_deis_error(await add_domain(api, mallory, f"{future}.{engine_settings.domain}"), 400, "domain")
    assert_deis_error(await add_domain(api, mallory, future), 400, "domain")
    async with platform.state.ctx.sessions() as session:
        session.add(Domain(app_id=mallory.app, owner=mallory.username, domain=f"{future}.{engine_settings.domain}"))
        await session.commit()
    r = await api.post("/v2/apps/", json={"id": future}, headers=victim.auth)  # was a 500
    assert "in use by another app" in assert_deis_error(r, 400, "id")["id"][0]
    assert (await api.get(f"/v2/apps/{future}/", headers=victim.auth)).status_code == 404
    assert (await router_client.get("/", headers=host_of(mallory.app, engine_settings))).status_code == 200
    await assert_unharmed(api, router_client, engine_settings, victim)


async def test_an_older_row_naming_another_apps_host_never_takes_it(api, platform, router_client, engine_settings,
                                                                    tenants):
    mallory, victim = tenants
    mallory.app = "a" + app_name()  # sorts before the victim's app: the renderer used to give hosts in that order
    assert (await api.post("/v2/apps/", json={"id": mallory.app}, headers=mallory.auth)).status_code == 201
    assert (await api.post(f"/v2/apps/{mallory.app}/builds/", json={"image": "test/web:latest"},
                           headers=mallory.auth)).status_code == 201
    async with platform.state.ctx.sessions() as session:  # as the platform accepted before this fix
        session.add(Domain(app_id=mallory.app, owner=mallory.username, domain=f"{victim.app}.{engine_settings.domain}"))
        await session.commit()
    r = await api.post(f"/v2/apps/{mallory.app}/settings/", json={"maintenance": True}, headers=mallory.auth)
    assert "another app's name" in assert_deis_error(r, 503)["detail"]
    assert (await router_client.get("/", headers=host_of(mallory.app, engine_settings))).status_code == 503
    assert (await router_client.get("/", headers=host_of(victim.app, engine_settings))).status_code == 200
    await assert_unharmed(api, router_client, engine_settings, victim)
