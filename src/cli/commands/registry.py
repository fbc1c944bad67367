"""registry:list, registry:set, registry:unset (config `registry`)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.commands._common import AppOpt, JsonOpt
from cli.commands.config_map import ConfigMap
from cli.errors import CLIError

REGISTRY = ConfigMap("registry", "Registry", "Applying registry information")


def parse_items(items: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        key, found, value = item.partition("=")
        if not found or not key or not value:
            raise CLIError(f"{item} is invalid. Must be in format key=value\nExamples: username=bob password=s3cur3pw1")
        if key not in ("username", "password"):
            raise CLIError(f'{key} is invalid. Valid keys are "username" or "password"')
        values[key] = value
    return values


def list_(app: AppOpt = None, json_: JsonOpt = False) -> None:
    """Lists private registry credentials for an application."""
    REGISTRY.list(app, json_)


def set_(
    items: Annotated[list[str], typer.Argument(metavar="KEY=VALUE...", help="username=... and/or password=...")],
    app: AppOpt = None,
) -> None:
    """Sets private registry credentials for an application."""
    REGISTRY.apply(app, parse_items(items))


def unset(
    keys: Annotated[list[str], typer.Argument(metavar="KEY...", help="username and/or password.")],
    app: AppOpt = None,
) -> None:
    """Unsets private registry credentials for an application."""
    REGISTRY.apply(app, {k: None for k in keys})
