"""The image of a build is a tenant's input that goes into Engine API paths and registry URLs: anything but a
Docker image reference, matched in full, is a 400 on the field before the engine is asked, nothing created."""

from __future__ import annotations

import pytest

from tests.conftest import unique


@pytest.mark.parametrize("image", [
    "Test/web", "a/../../containers/json", "a/b:t?x=1", "a b", "x:", "a//b", "a/b@sha256:abc",
    "x/" + "a" * 600, "test/web\n",
])
async def test_not_a_reference(client, alice, image):
    _, auth = alice
    name = unique("a")
    assert (await client.post("/v2/apps/", json={"id": name}, headers=auth)).status_code == 201
    r = await client.post(f"/v2/apps/{name}/builds/", json={"image": image}, headers=auth)
    assert r.status_code == 400, r.text
    assert list(r.json()) == ["image"] and "valid Docker image reference" in r.json()["image"][0]
    assert (await client.get(f"/v2/apps/{name}/builds/", headers=auth)).json()["count"] == 0
    assert (await client.get(f"/v2/apps/{name}/releases/", headers=auth)).json()["count"] == 1
