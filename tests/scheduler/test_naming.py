"""Pod names and labels (pure functions)."""

from __future__ import annotations

import re

import pytest

from workflow.domain import naming

POD_RE = re.compile(r"^myapp-cmd-[0-9]{10}-[a-z0-9]{5}$")


class TestPodName:
    def test_shape(self):
        for _ in range(50):
            assert POD_RE.match(naming.pod_name("myapp", "cmd", 1))

    def test_hash_is_stable_per_app_type_version(self):
        a = naming.pod_name("myapp", "web", 3).split("-")[2]
        b = naming.pod_name("myapp", "web", 3).split("-")[2]
        assert a == b == naming.release_hash("myapp", "web", 3)

    def test_hash_differs_across_versions_types_apps(self):
        hashes = {
            naming.release_hash("myapp", "web", 3),
            naming.release_hash("myapp", "web", 4),
            naming.release_hash("myapp", "worker", 3),
            naming.release_hash("other", "web", 3),
        }
        assert len(hashes) == 4
        assert all(len(h) == 10 and h.isdigit() for h in hashes)

    def test_suffix_random(self):
        assert len({naming.pod_name("myapp", "web", 1) for _ in range(20)}) == 20

    def test_explicit_suffix(self):
        assert naming.pod_name("a", "web", 1, suffix="abc12").endswith("-abc12")
        with pytest.raises(ValueError):
            naming.pod_name("a", "web", 1, suffix="ABC12")

    def test_cli_parse_type_reads_the_type(self):
        # Workflow CLI ps.go parseType: strip "<app>-", the type is the first part when the remainder
        # matches `[a-z0-9]{8,10}-[a-z0-9]{5}$`.
        name = naming.pod_name("my-app", "web", 7)
        replaced = name.replace("my-app-", "", 1)
        assert re.search(r"[a-z0-9]{8,10}-[a-z0-9]{5}$", replaced)
        assert replaced.split("-")[0] == "web"


class TestParse:
    def test_with_app(self):
        name = naming.pod_name("my-app", "worker-test1", 2, suffix="x1y2z")
        parsed = naming.parse_pod_name(name, "my-app")
        assert parsed == naming.PodName(
            "my-app", "worker-test1", naming.release_hash("my-app", "worker-test1", 2), "x1y2z"
        )

    def test_without_app(self):
        parsed = naming.parse_pod_name("my-app-web-0123456789-abcde")
        assert parsed == naming.PodName("my-app", "web", "0123456789", "abcde")

    def test_accepts_8_digit_hash(self):
        assert naming.parse_pod_name("app-cmd-12345678-abcde", "app") is not None

    @pytest.mark.parametrize(
        "name",
        [
            "app-cmd-123-abcde",
            "app-cmd-1234567890-abcd",
            "app-cmd-1234567890-ABCDE",
            "other-cmd-1234567890-abcde",
            "app",
        ],
    )
    def test_rejects(self, name):
        assert naming.parse_pod_name(name, "app") is None

    def test_short_names(self):
        assert naming.parse_short_pod_name("web-1234567890-abcde") == ("web", "1234567890", "abcde")
        assert naming.parse_short_pod_name("app-web-x") is None

    def test_full_pod_name(self):
        assert naming.full_pod_name("app", "web-1234567890-abcde") == "app-web-1234567890-abcde"
        assert naming.full_pod_name("app", "app-web-1234567890-abcde") == "app-web-1234567890-abcde"
        assert naming.full_pod_name("app", "nonsense") is None
        # an app named like its type
        assert naming.full_pod_name("web", "web-1234567890-abcde") == "web-web-1234567890-abcde"

    def test_short_pod_name(self):
        assert naming.short_pod_name("app-web-1234567890-abcde", "app") == "web-1234567890-abcde"


class TestLabels:
    def test_pod_labels(self):
        assert naming.pod_labels("app", "web", 3) == {
            "deis.app": "app",
            "deis.type": "web",
            "deis.version": "v3",
            "heritage": "deis",
        }

    def test_label_filter(self):
        assert naming.label_filter() == ["heritage=deis"]
        assert naming.label_filter("app", "web", 2) == [
            "heritage=deis",
            "deis.app=app",
            "deis.type=web",
            "deis.version=v2",
        ]

    def test_versions(self):
        assert naming.version_label(12) == "v12"
        assert naming.parse_version("v12") == 12
        assert naming.parse_version("12") is None
        assert naming.parse_version("") is None
