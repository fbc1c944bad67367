async def test_root_is_401_when_anonymous(client):
    r = await client.get("/v2/")
    assert r.status_code == 401
    assert r.headers["DEIS_API_VERSION"] == "2.3"


async def test_create_app(client, alice):
    _, auth = alice
    r = await client.post("/v2/apps/", json={"id": "example-go"}, headers=auth)
    assert r.status_code == 201, r.text
    r = await client.get("/v2/apps", headers=auth)
    assert r.json()["count"] == 1
