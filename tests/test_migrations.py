"""The Alembic migrations build exactly the schema the models declare (the app never calls
create_all): upgrade an empty database to head, then autogenerate must find nothing to do."""

from __future__ import annotations

import asyncio
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from tests.conftest import _recreate_postgres_database
from workflow import models  # noqa: F401  (registers the tables)
from workflow.db import make_engine
from workflow.migrate import upgrade

EXPECTED_TABLES = {"users", "tokens", "apps", "app_permissions", "configs", "builds", "releases",
                   "domains", "app_settings", "tls", "keys", "certificates", "events", "release_events"}


def _postgres_url() -> str | None:
    url = os.environ.get("WORKFLOW_TEST_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        return None
    base, name = url.rsplit("/", 1)
    return f"{base}/{name.split('?')[0]}_migr"


def _new_database(which: str, tmp_path) -> str:
    if which == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'migr.db'}"
    url = _postgres_url()
    if url is None:
        pytest.skip("WORKFLOW_TEST_DATABASE_URL does not name a PostgreSQL database")
    asyncio.run(_recreate_postgres_database(url))
    return url


async def _inspect(url: str) -> tuple[list, set[str], str | None]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            def run(sync_connection):
                context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
                diff = compare_metadata(context, SQLModel.metadata)
                return diff, set(inspect(sync_connection).get_table_names()), context.get_current_revision()

            return await connection.run_sync(run)
    finally:
        await engine.dispose()


def test_postgres_url_is_separate_database(monkeypatch):
    monkeypatch.setenv("WORKFLOW_TEST_DATABASE_URL", "postgresql+asyncpg://u:p@h:5432/workflow_test")
    assert _postgres_url() == "postgresql+asyncpg://u:p@h:5432/workflow_test_migr"


@pytest.mark.parametrize("which", ["sqlite", "postgresql"])
def test_upgrade_from_empty_matches_models(tmp_path, which):
    url = _new_database(which, tmp_path)

    diff, tables, _ = asyncio.run(_inspect(url))
    assert tables == set(), "the new database must start empty"
    assert diff, "an empty database must differ from the models"

    upgrade(url)

    diff, tables, revision = asyncio.run(_inspect(url))
    assert tables == EXPECTED_TABLES | {"alembic_version"}
    assert revision is not None
    assert diff == [], f"migrations and models disagree: {diff}"

    upgrade(url)  # idempotent at head
    assert asyncio.run(_inspect(url))[0] == []
