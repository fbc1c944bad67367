"""tags:list, tags:set, tags:unset (config `tags`)."""

from __future__ import annotations

from cli.commands._common import JSON
from cli.commands.config_map import ConfigMap
from cli.errors import CLIError

TAGS = ConfigMap("tags", "Tags", "Applying tags")


def parse_tags(items: list[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in items:
        parts = item.split("=")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise CLIError(f"{item} is invalid, Must be in format key=value\nExamples: rack=1 evironment=production")
        tags[parts[0]] = parts[1]
    return tags


def list_(app: str | None = None, json_: bool = False) -> None:
    """Lists tags for an application."""
    TAGS.list(app, json_)


def set_(tags: list[str], app: str | None = None) -> None:
    """Sets tags for an application."""
    TAGS.apply(app, parse_tags(tags))


def unset(keys: list[str], app: str | None = None) -> None:
    """Unsets tags for an application."""
    TAGS.apply(app, {k: None for k in keys})


EXTRAS = {"tags:list": JSON}
COMMANDS = {
    "tags:list": lambda a: list_(a["--app"], a["--json"]),
    "tags:set": lambda a: set_(a["<key>=<value>"], a["--app"]),
    "tags:unset": lambda a: unset(a["<key>"], a["--app"]),
}
