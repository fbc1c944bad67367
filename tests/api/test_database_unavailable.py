"""A database that cannot be used answers 503 in the Deis error shape (not a 500): the client may retry."""

from __future__ import annotations

import httpx

from workflow.config import Settings
from workflow.main import create_app


async def test_unusable_database_is_503(tmp_path):
    # A SQLite file in a directory that does not exist: every connection attempt fails (OperationalError).
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'x.db'}",
                        secret_key="test-secret", router_enabled=False, scheduler_enabled=False)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for method, path, body in (("GET", "/v2/apps/", None),
                                       ("POST", "/v2/auth/login/", {"username": "a", "password": "b"}),
                                       ("POST", "/v2/auth/register/", {"username": "a", "password": "b"})):
                response = await client.request(method, path, json=body, headers={"Authorization": "token x"})
                assert response.status_code == 503, (path, response.text)
                assert response.json() == {"detail": "The database is unavailable, try again later."}
