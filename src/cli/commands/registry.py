"""registry:list, registry:set, registry:unset (config `registry`)."""

from __future__ import annotations

from cli.commands._common import JSON
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


def list_(app: str | None = None, json_: bool = False) -> None:
    """Lists private registry credentials for an application."""
    REGISTRY.list(app, json_)


def set_(items: list[str], app: str | None = None) -> None:
    """Sets private registry credentials for an application."""
    REGISTRY.apply(app, parse_items(items))


def unset(keys: list[str], app: str | None = None) -> None:
    """Unsets private registry credentials for an application."""
    REGISTRY.apply(app, {k: None for k in keys})


EXTRAS = {"registry:list": JSON}
COMMANDS = {
    "registry:list": lambda a: list_(a["--app"], a["--json"]),
    "registry:set": lambda a: set_(a["<key>=<value>"], a["--app"]),
    "registry:unset": lambda a: unset(a["<key>"], a["--app"]),
}
