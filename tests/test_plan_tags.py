"""The release plan carries the app's tags (a swarm places them by node labels) and registry credentials to every
replica set it runs."""

from __future__ import annotations

from workflow.config import Settings
from workflow.domain.plan import plan
from workflow.models import App, Build, Config, Release
from workflow.scheduler.base import ImageInfo, RegistryAuth


def test_the_plan_passes_the_apps_tags_to_each_process_type(tmp_path):
    app = App(id="tagged", owner_id=1)
    build = Build(app_id="tagged", owner_id=1, image="test/web@sha256:" + "a" * 64, procfile={"worker": "sleep 1"})
    config = Config(app_id="tagged", owner_id=1, tags={"zone": "edge", "n": 1})
    release = Release(app_id="tagged", owner_id=1, version=2)
    image = ImageInfo(image=build.image, exposed_ports=[8080], entrypoint=None, cmd=["httpd"])
    the_plan = plan(app, release, build, config, image, {"cmd": 2, "worker": 1}, True, Settings(data_dir=tmp_path))
    assert {t: s.tags for t, s in the_plan.specs.items()} == {"cmd": {"n": "1", "zone": "edge"},
                                                               "worker": {"n": "1", "zone": "edge"}}


def test_the_plan_carries_the_apps_registry_credentials_out_of_the_specs_repr(tmp_path):
    """For the backend's own pulls (a swarm's nodes); a spec may be logged: its repr shows no password."""
    app = App(id="private", owner_id=1)
    build = Build(app_id="private", owner_id=1, image="reg.example:5001/web@sha256:" + "b" * 64)
    config = Config(app_id="private", owner_id=1, values={"PORT": "8080"})
    release = Release(app_id="private", owner_id=1, version=3)
    image = ImageInfo(image=build.image, exposed_ports=[8080], entrypoint=None, cmd=["httpd"])
    auth = RegistryAuth(username="deploy", password="s3cret-pass", hostname=None)
    the_plan = plan(app, release, build, config, image, {"cmd": 2}, True, Settings(data_dir=tmp_path), auth)
    assert the_plan.specs["cmd"].registry_auth == auth
    assert "s3cret-pass" not in repr(the_plan)
    assert plan(app, release, build, config, image, {"cmd": 2}, True,
                Settings(data_dir=tmp_path)).specs["cmd"].registry_auth is None
