"""Procfiles and structures (`{"cmd": 3}`) — pure rules from spec §4.4, §4.5, §4.7."""

from __future__ import annotations

import re
from typing import Any

from .validation import loads_json

PROC_TYPE_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
ROUTABLE_TYPES = ("web", "cmd")
# `deis run` containers carry the type `run` (services/deploy.py RUN_TYPE); they are hidden from `ps`, never
# converged and never retired, so a procfile type of that name would be scaled and never stopped.
RESERVED_TYPES = ("run",)
RESERVED_TEXT = "The process type run is reserved for one-off `deis run` containers"
MAX_SCALE = 2**31 - 1  # upstream's ceiling: a Kubernetes replica count is an int32


class ProcfileError(ValueError):
    pass


def parse_procfile(value: Any) -> dict[str, str]:
    """A procfile arrives as a JSON object, or a string holding JSON (upstream tests)."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = loads_json(value)
        except ValueError as exc:
            raise ProcfileError("Procfile must be a JSON object") from exc
    if not isinstance(value, dict):
        raise ProcfileError("Procfile must be a JSON object")
    procfile: dict[str, str] = {}
    for proc_type, command in value.items():
        if not isinstance(proc_type, str) or not PROC_TYPE_RE.fullmatch(proc_type):
            raise ProcfileError("Process types can only contain lowercase alphanumeric characters")
        if proc_type in RESERVED_TYPES:
            raise ProcfileError(RESERVED_TEXT)
        if command is None or (isinstance(command, str) and not command.strip()):
            raise ProcfileError("Command can't be empty for process type")
        if not isinstance(command, str):
            raise ProcfileError("Command must be a string")
        procfile[proc_type] = command
    return procfile


def default_structure(procfile: dict[str, str], sha: str, dockerfile: str) -> dict[str, int]:
    """`_default_structure`: what the first deploy runs."""
    if "web" in procfile:
        return {"web": 1}
    if not sha or dockerfile:
        return {"cmd": 1}
    if procfile:
        return {}
    return {"web": 1}


def next_structure(current: dict[str, int], old_procfile: dict[str, str], new_procfile: dict[str, str],
                   sha: str, dockerfile: str) -> dict[str, int]:
    """The structure a new build runs with: the default on first deploy, else the current one with
    types that left the procfile scaled to 0."""
    if not current:
        return default_structure(new_procfile, sha, dockerfile)
    structure = dict(current)
    for proc_type in old_procfile:
        if proc_type not in new_procfile and proc_type in structure:
            structure[proc_type] = 0
    return structure


def routable_type(structure: dict[str, int]) -> str | None:
    """The router sends traffic to `web` when it runs, else `cmd`."""
    for proc_type in ROUTABLE_TYPES:
        if structure.get(proc_type, 0) > 0:
            return proc_type
    return None


def parse_scale(body: dict[str, Any]) -> dict[str, int]:
    """`{"web": 3, "worker": "2"}` → ints, with upstream's error texts (without the prefix)."""
    result: dict[str, int] = {}
    for proc_type, raw in body.items():
        if proc_type in RESERVED_TYPES:
            raise ProcfileError(RESERVED_TEXT)
        try:
            count = int(raw)
        except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: JSON's Infinity
            raise ProcfileError(str(exc)) from exc
        if count < 0:
            raise ProcfileError("['Must be greater than or equal to zero']")
        if count > MAX_SCALE:
            raise ProcfileError(f"['Must be less than or equal to {MAX_SCALE}']")
        result[proc_type] = count
    return result
