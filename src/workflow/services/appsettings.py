"""App settings, whitelist and TLS (spec §3.11): versioned rows, the newest in force.

Every change adds a row and is applied to the router before the call returns.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from .. import repositories as repo
from ..domain.autoscale import KEYS as AUTOSCALE_KEYS
from ..domain.autoscale import METRICS, REQUEST_METRICS, rule_problem
from ..domain.procfile import ROUTABLE_TYPES, routable_type
from ..domain.validation import loads_json
from ..errors import Conflict, FieldErrors, NotFound, PermissionDenied, Unprocessable
from ..models import TLS, App, AppSettings, User
from .routing import commit_and_sync

# Django REST framework's BooleanField vocabulary.
_TRUE = {"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1", 1}
_FALSE = {"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "0", 0}


def _bool(errors: dict[str, list[str]], field: str, value: Any) -> bool | None:
    """DRF NullBooleanField: null stays null; anything outside the vocabulary is a field error."""
    if value is None:
        return None
    try:
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
    except TypeError:  # unhashable (list, dict)
        pass
    shown = value if isinstance(value, str) else json.dumps(value) if isinstance(value, list | dict) else value
    errors.setdefault(field, []).append(f'"{shown}" is not a valid boolean.')
    return None


def address_valid(value: Any) -> bool:
    """An IPv4/IPv6 address, network (`10.0.0.0/8`) or interface (`10.0.0.1/8`).

    No IPv6 zone id (`fe80::1%eth0`): Python accepts one, nginx's `geo` block does not, and it names an
    interface of the server, not a client."""
    if not isinstance(value, str) or "%" in value or value != value.strip():
        return False
    for parse in (ipaddress.ip_address, ipaddress.ip_network, ipaddress.ip_interface):
        try:
            parse(value)
            return True
        except ValueError:
            continue
    return False


def _addresses(errors: dict[str, list[str]], field: str, value: Any) -> list[str] | None:
    if not isinstance(value, list):
        kind = "null" if value is None else type(value).__name__
        errors.setdefault(field, []).append(f'Expected a list of items but got type "{kind}".')
        return None
    for address in value:
        if not address_valid(address):
            errors.setdefault(field, []).append(f"The address {address} is not valid")
            return None
    return list(dict.fromkeys(value))


def _object(errors: dict[str, list[str]], field: str, value: Any) -> dict | None:
    """A JSON object, also when sent as a string holding one (upstream JSONFieldSerializer)."""
    if isinstance(value, str):
        try:
            value = loads_json(value)
        except ValueError:
            errors.setdefault(field, []).append("Value must be valid JSON.")
            return None
    if not isinstance(value, dict):
        errors.setdefault(field, []).append(f"Expected a dictionary of items but got type \"{type(value).__name__}\".")
        return None
    return value


def _autoscale_problem(rule: Any) -> str | None:
    """The jsonschema message upstream showed for a bad `{min, max, cpu_percent}` rule; `cpu_percent` may give
    way to `rps_per_container` and/or `p95_ms` (one metric at least), and nothing else is taken."""
    if not isinstance(rule, dict):
        return f"{rule!r} is not of type 'object'"
    unexpected = [key for key in rule if key not in AUTOSCALE_KEYS]
    if unexpected:
        return f"Additional properties are not allowed ({', '.join(repr(k) for k in sorted(map(str, unexpected)))} " \
               f"{'was' if len(unexpected) == 1 else 'were'} unexpected)"
    for key in AUTOSCALE_KEYS:
        if key in rule and (isinstance(rule[key], bool) or not isinstance(rule[key], int)):
            return f"{rule[key]!r} is not of type 'integer'"
    for key in ("min", "max"):
        if key not in rule:
            return f"{key!r} is a required property"
    if not any(key in rule for key in METRICS):
        return "'cpu_percent' is a required property"
    return None


def _request_rule_problem(proc_type: str, rule: dict, structure: dict[str, int]) -> str | None:
    """Requests reach the routable type only (`web`, else `cmd`): a request-rate rule elsewhere would never
    see any."""
    if not any(key in rule for key in REQUEST_METRICS):
        return None
    routable = routable_type(structure)
    if proc_type in ROUTABLE_TYPES and routable in (None, proc_type):
        return None
    receiver = f"the routable type is {routable}" if routable else "the routable type is web, else cmd"
    return f"{proc_type} receives no requests ({receiver}): rps_per_container and p95_ms apply to it only"


def _merge(field: str, old: dict, changes: dict) -> dict:
    """Per-key merge; `null` removes a key (422 when it is not there)."""
    merged = dict(old)
    for key, value in changes.items():
        if value is None:
            if key not in merged:
                raise Unprocessable(f"{key} does not exist under {field}")
            del merged[key]
        else:
            merged[key] = value
    return merged


async def latest(session: AsyncSession, app: App) -> AppSettings:
    row = await repo.latest_settings(session, app.id)
    if row is None:
        raise NotFound("AppSettings")
    return row


async def _apply(session: AsyncSession, ctx, app_id: str) -> None:
    await commit_and_sync(session, ctx, app_id)


async def _new_row(session: AsyncSession, ctx, app: App, user: User, previous: AppSettings,
                   **changes: Any) -> AppSettings:
    """A new settings row from the previous one and `changes`; 409 when nothing differs."""
    values = {field: getattr(previous, field) for field in ("maintenance", "routable", "whitelist",
                                                              "autoscale", "label")}
    before = dict(values)
    values.update(changes)
    if values["whitelist"] is not None and set(values["whitelist"]) == set(before["whitelist"] or []):
        values["whitelist"] = before["whitelist"]
    if values == before:
        raise Conflict(f"{user.username} changed nothing")
    row = AppSettings(app_id=app.id, owner=user.username, **values)
    session.add(row)
    await _apply(session, ctx, app.id)
    return row


async def change(session: AsyncSession, ctx, app: App, user: User, data: dict[str, Any]) -> AppSettings:
    """Any subset of maintenance, routable, whitelist (replaced), autoscale and label (merged per key)."""
    previous = await latest(session, app)
    errors: dict[str, list[str]] = {}
    changes: dict[str, Any] = {}
    for field in ("maintenance", "routable"):
        value = _bool(errors, field, data.get(field))
        if value is not None:
            changes[field] = value
    if data.get("whitelist") is not None:
        whitelist = _addresses(errors, "whitelist", data["whitelist"])
        if whitelist is not None:
            removed = set(previous.whitelist or []) - set(whitelist)
            if removed and not (user.is_superuser or app.owner == user.username):
                # DELETE /whitelist/ is the owner's (and admins'): replacing the list must not get around it.
                raise PermissionDenied()
            changes["whitelist"] = whitelist
    objects: dict[str, dict] = {}
    for field in ("autoscale", "label"):
        if data.get(field) is not None:
            value = _object(errors, field, data[field])
            if value is not None:
                objects[field] = value
    quota = ctx.settings.max_containers_per_app
    structure = app.structure or {}
    for proc_type, rule in objects.get("autoscale", {}).items():
        if rule is not None and (problem := _autoscale_problem(rule) or rule_problem(rule, quota)
                                 or _request_rule_problem(str(proc_type), rule, structure)):
            errors.setdefault("autoscale", []).append(f"could not validate {rule!r}: {problem}")
            break
    if errors:
        raise FieldErrors(errors)
    for field, value in objects.items():
        changes[field] = _merge(field, dict(getattr(previous, field) or {}), value)
    return await _new_row(session, ctx, app, user, previous, **changes)


async def whitelist(session: AsyncSession, app: App) -> list[str]:
    return list((await latest(session, app)).whitelist or [])


def _given_addresses(data: dict[str, Any]) -> list[str]:
    errors: dict[str, list[str]] = {}
    if "addresses" not in data:
        raise FieldErrors.one("addresses", "This field is required.")
    addresses = _addresses(errors, "addresses", data["addresses"])
    if errors:
        raise FieldErrors(errors)
    return addresses


async def whitelist_add(session: AsyncSession, ctx, app: App, user: User, data: dict[str, Any]) -> list[str]:
    """The union of the whitelist and the given addresses; 409 when all were there."""
    addresses = _given_addresses(data)
    previous = await latest(session, app)
    current = list(previous.whitelist or [])
    row = await _new_row(session, ctx, app, user, previous,
                         whitelist=current + [a for a in addresses if a not in current])
    return list(row.whitelist)


def _set_text(values: set[str]) -> str:
    return "{" + ", ".join(repr(a) for a in sorted(values)) + "}"


async def whitelist_remove(session: AsyncSession, ctx, app: App, user: User, data: dict[str, Any]) -> None:
    addresses = _given_addresses(data)
    previous = await latest(session, app)
    current = list(previous.whitelist or [])
    missing = set(addresses) - set(current)
    if missing:
        raise Unprocessable(f"addresses {_set_text(missing)} does not exist in whitelist")
    await _new_row(session, ctx, app, user, previous, whitelist=[a for a in current if a not in addresses])


async def latest_tls(session: AsyncSession, app: App) -> TLS:
    row = await repo.latest_tls(session, app.id)
    if row is None:
        raise NotFound("TLS")
    return row


async def set_tls(session: AsyncSession, ctx, app: App, user: User, data: dict[str, Any]) -> TLS:
    """`https_enforced`: plain http answers 301 to https when true; 409 when it already has that value."""
    errors: dict[str, list[str]] = {}
    enforced = _bool(errors, "https_enforced", data.get("https_enforced"))
    if errors:
        raise FieldErrors(errors)
    previous = await latest_tls(session, app)
    if previous.https_enforced is not None and previous.https_enforced == enforced:
        raise Conflict(f"{user.username} changed nothing")
    row = TLS(app_id=app.id, owner=user.username, https_enforced=enforced)
    session.add(row)
    await _apply(session, ctx, app.id)
    return row
