"""The composition root: the backend named by WORKFLOW_SCHEDULER, refused at start-up when unknown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workflow.config import Settings
from workflow.main import create_app
from workflow.runtime import BACKENDS, ConfigurationError, check_settings


def test_docker_is_the_default_backend(tmp_path):
    settings = Settings(data_dir=tmp_path, secret_key="test-secret")
    assert settings.scheduler == "docker" and "docker" in BACKENDS
    check_settings(settings)


async def test_unknown_backend_refused_before_anything_starts(tmp_path):
    settings = Settings(data_dir=tmp_path, secret_key="test-secret", scheduler="swarmz", router_enabled=False,
                        database_url=f"sqlite+aiosqlite:///{tmp_path}/db.sqlite")
    with pytest.raises(ConfigurationError, match="WORKFLOW_SCHEDULER='swarmz'.*choose one of: docker"):
        check_settings(settings)
    app = create_app(settings)
    with pytest.raises(ConfigurationError):
        async with app.router.lifespan_context(app):
            pass


def test_workflow_serve_says_which_setting_is_wrong(tmp_path):
    env = {**os.environ, "WORKFLOW_SCHEDULER": "kubernetes", "WORKFLOW_DATA_DIR": str(tmp_path),
           "WORKFLOW_SECRET_KEY": "test-secret"}
    workflow = Path(sys.executable).parent / "workflow"
    done = subprocess.run([str(workflow), "serve"], env=env, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert "WORKFLOW_SCHEDULER='kubernetes' is not a container backend" in done.stderr
    assert "Traceback" not in done.stderr


def test_router_instances_need_the_swarm_backend_and_a_readable_token(tmp_path):
    base = {"data_dir": tmp_path, "secret_key": "test-secret", "router_service": "wf_router"}
    with pytest.raises(ConfigurationError, match="needs WORKFLOW_SCHEDULER=swarm"):
        check_settings(Settings(**base))
    with pytest.raises(ConfigurationError, match="needs WORKFLOW_ROUTER_TOKEN_FILE"):
        check_settings(Settings(**base, scheduler="swarm"))
    with pytest.raises(ConfigurationError, match="cannot read WORKFLOW_ROUTER_TOKEN_FILE"):
        check_settings(Settings(**base, scheduler="swarm", router_token_file=tmp_path / "absent"))
    short = tmp_path / "short"
    short.write_text("abc\n")
    with pytest.raises(ConfigurationError, match="at least 16 printable characters"):
        check_settings(Settings(**base, scheduler="swarm", router_token_file=short))
    good = tmp_path / "token"
    good.write_text("0123456789abcdef0123\n")
    settings = Settings(**base, scheduler="swarm", router_token_file=good)
    check_settings(settings)
    from workflow.router.cluster import ClusterRouter
    from workflow.runtime import make_router

    assert isinstance(make_router(settings), ClusterRouter)
