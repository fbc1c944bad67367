"""tags:list, tags:set, tags:unset (config `tags`)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.commands._common import AppOpt, JsonOpt
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


def list_(app: AppOpt = None, json_: JsonOpt = False) -> None:
    """Lists tags for an application."""
    TAGS.list(app, json_)


def set_(
    tags: Annotated[
        list[str], typer.Argument(metavar="KEY=VALUE...", help="tags to set, e.g. environment=production.")
    ],
    app: AppOpt = None,
) -> None:
    """Sets tags for an application."""
    TAGS.apply(app, parse_tags(tags))


def unset(
    keys: Annotated[list[str], typer.Argument(metavar="KEY...", help="tags to remove.")],
    app: AppOpt = None,
) -> None:
    """Unsets tags for an application."""
    TAGS.apply(app, {k: None for k in keys})
