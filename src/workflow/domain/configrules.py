"""Config validation and merging (`ConfigSerializer`, `Config.save`; spec §4.6) — pure."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlparse

from .images import HOSTNAME_TEXT, valid_registry_host
from .procfile import PROC_TYPE_RE
from .validation import loads_json

FIELDS = ("values", "memory", "cpu", "tags", "registry", "healthcheck")
KEY_RE = re.compile(r"[a-z_]+[a-z0-9_]*", re.IGNORECASE)
MEMORY_RE = re.compile(r"(([0-9]+(MB|KB|GB|[BKMG])|0)(/([0-9]+(MB|KB|GB|[BKMG])))?)", re.IGNORECASE)
CPU_RE = re.compile(r"(([-+]?[0-9]*\.?[0-9]+[m]?)(/([-+]?[0-9]*\.?[0-9]+[m]?))?)")
TAG_NAME_RE = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
TAG_VALUE_RE = re.compile(r"(?:[a-zA-Z\d][-\.\w]{0,61})?[a-zA-Z\d]")
DIGITS_RE = re.compile(r"[0-9]{1,9}")  # not str.isdigit(): it accepts "²", which int() refuses
DNS_LABEL_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# Upper bounds of what a tenant may ask the controller to wait for: the controller runs every probe and waits
# for every deploy itself, so an unbounded value is a task that never ends. A deploy answers within the API's
# request time limit (nginx_config.API_READ_TIMEOUT_S, 1200 s), so its timeout stays below it.
PROBE_BOUNDS = {"initialDelaySeconds": 600, "timeoutSeconds": 60, "periodSeconds": 3600, "successThreshold": 100,
                "failureThreshold": 100}
PROBE_INTS = tuple(PROBE_BOUNDS)
MAX_DEPLOY_TIMEOUT = 600
VALUE_BOUNDS = {"DEIS_DEPLOY_TIMEOUT": (1, MAX_DEPLOY_TIMEOUT), "DEIS_DEPLOY_BATCHES": (1, 1000),
                "KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS": (0, 3600)}
MAX_PROBE_HEADERS = 32
HEADER_NAME_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}")  # an HTTP token (RFC 9110)
HEADER_VALUE_RE = re.compile(r"[\t\x20-\x7e]{0,4096}")  # visible ASCII: no CR/LF, nothing httpx re-encodes
PROBE_PATH_RE = re.compile(r"[\x21-\x7e]{1,2048}")  # a URL path: no spaces or control characters
PROBE_HOST_RE = re.compile(r"[A-Za-z0-9.-]{1,253}")
HEALTHCHECK_DEFAULTS = {"HEALTHCHECK_INITIAL_DELAY": ("initialDelaySeconds", 50),
                        "HEALTHCHECK_TIMEOUT": ("timeoutSeconds", 50),
                        "HEALTHCHECK_PERIOD_SECONDS": ("periodSeconds", 10),
                        "HEALTHCHECK_SUCCESS_THRESHOLD": ("successThreshold", 1),
                        "HEALTHCHECK_FAILURE_THRESHOLD": ("failureThreshold", 3)}

KEY_TEXT = "Config keys must start with a letter or underscore and only contain [A-z0-9_]"
PROC_TEXT = "Process types can only contain lowercase alphanumeric characters"


class ConfigError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class MissingKey(KeyError):
    def __init__(self, key: str, field: str):
        super().__init__(key)
        self.text = f"{key} does not exist under {field}"


def as_object(field: str, value: Any) -> dict[str, Any]:
    """Objects may arrive as JSON objects or as strings holding JSON."""
    if isinstance(value, str):
        try:
            value = loads_json(value)
        except ValueError as exc:
            raise ConfigError(field, f"Value must be valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ConfigError(field, f'Expected a dictionary of items but got type "{type(value).__name__}".')
    return value


def _check_values(values: dict[str, Any]) -> None:
    for key, value in values.items():
        if not KEY_RE.fullmatch(key):
            raise ConfigError("values", KEY_TEXT)
        if value is None:
            continue
        text = str(value)
        if key == "PORT":
            if not DIGITS_RE.fullmatch(text):
                raise ConfigError("values", "PORT can only be a numeric value")
            if not 1 <= int(text) <= 65535:
                raise ConfigError("values", "PORT needs to be between 1 and 65535")
        elif key == "HEALTHCHECK_URL":
            parsed = urlparse(text)
            if not parsed.path:
                raise ConfigError("values", "HEALTHCHECK_URL is missing a URI path (such as /healthz). Without it "
                                            "no health check can be done")
            if parsed.scheme or parsed.netloc or parsed.query or parsed.params or parsed.fragment:
                raise ConfigError("values", "HEALTHCHECK_URL can only be a URI path (such as /healthz) that does "
                                            "not contain other things such as query params")
        elif key.startswith("HEALTHCHECK_") and not DIGITS_RE.fullmatch(text):
            raise ConfigError("values", f"{key} can only be a numeric value")
        elif key in HEALTHCHECK_DEFAULTS and int(text) > PROBE_BOUNDS[HEALTHCHECK_DEFAULTS[key][0]]:
            raise ConfigError("values", f"{key} must be at most {PROBE_BOUNDS[HEALTHCHECK_DEFAULTS[key][0]]}")
        elif key in VALUE_BOUNDS:
            low, high = VALUE_BOUNDS[key]
            if not DIGITS_RE.fullmatch(text) or not low <= int(text) <= high:
                raise ConfigError("values", f"{key} must be a whole number from {low} to {high}")


def _check_limits(field: str, limits: dict[str, Any]) -> None:
    pattern = MEMORY_RE if field == "memory" else CPU_RE
    text = ("Memory limit format: <number><unit> or <number><unit>/<number><unit>, where unit = B, K, M or G"
            if field == "memory" else
            "CPU limit format: <value> or <value>/<value>, where value must be a numeric")
    for key, value in limits.items():
        if not PROC_TYPE_RE.fullmatch(key):
            raise ConfigError(field, PROC_TEXT)
        if value is not None and not pattern.fullmatch(str(value)):
            raise ConfigError(field, text)


def _check_tags(tags: dict[str, Any]) -> None:
    for key, value in tags.items():
        prefix, _, name = key.rpartition("/")
        if prefix:
            if len(prefix) > 253:
                raise ConfigError("tags", "Tag key prefixes must 253 characters or less.")
            if not all(DNS_LABEL_RE.fullmatch(label) for label in prefix.split(".")):
                raise ConfigError("tags", "Tag key prefixes must be DNS subdomains.")
        if not TAG_NAME_RE.fullmatch(name):
            raise ConfigError("tags", 'Tag keys must be alphanumeric or "-_.", and 1-63 characters.')
        if value is not None and str(value) != "" and not TAG_VALUE_RE.fullmatch(str(value)):
            raise ConfigError("tags", 'Tag values must be alphanumeric or "-_.", and 1-63 characters.')


def probe_error(probe: Any) -> str | None:
    """What is wrong with a Kubernetes probe object, or None."""
    if not isinstance(probe, dict):
        return "probe must be an object"
    for key, high in PROBE_BOUNDS.items():
        if key in probe and (not isinstance(probe[key], int) or isinstance(probe[key], bool)
                             or not 0 <= probe[key] <= high):
            return f"{key} must be an integer from 0 to {high}"
    handlers = [h for h in ("exec", "httpGet", "tcpSocket") if h in probe]
    if len(handlers) != 1:
        return "exactly one of exec, httpGet or tcpSocket is required"
    handler = probe[handlers[0]]
    if not isinstance(handler, dict):
        return f"{handlers[0]} must be an object"
    if handlers[0] == "exec":
        command = handler.get("command")
        if not isinstance(command, list) or not command or len(command) > 256 \
                or not all(isinstance(c, str) and len(c) <= 8192 for c in command):
            return "exec.command must be a non-empty list of at most 256 strings"
    else:
        port = handler.get("port")
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            return f"{handlers[0]}.port is required and must be an integer port"
        if handlers[0] == "httpGet":
            return _http_get_error(handler)
    return None


def _http_get_error(handler: dict[str, Any]) -> str | None:
    """The fields the health monitor sends as they are: each must be what an HTTP request can carry."""
    path = handler.get("path", "/")
    if not isinstance(path, str) or not PROBE_PATH_RE.fullmatch(path):
        return "httpGet.path must be a URL path (/healthz) of at most 2048 visible characters"
    host = handler.get("host")
    if host is not None and (not isinstance(host, str) or not PROBE_HOST_RE.fullmatch(host)):
        return "httpGet.host must be a host name"
    headers = handler.get("httpHeaders", [])
    if not isinstance(headers, list) or len(headers) > MAX_PROBE_HEADERS or not all(
            isinstance(h, dict) and isinstance(h.get("name"), str) and isinstance(h.get("value"), str)
            and HEADER_NAME_RE.fullmatch(h["name"]) and HEADER_VALUE_RE.fullmatch(h["value"]) for h in headers):
        return (f"httpGet.httpHeaders must be a list of at most {MAX_PROBE_HEADERS} {{name, value}} strings "
                "(a header name and a value without control characters)")
    return None


def _check_healthcheck(healthcheck: dict[str, Any]) -> None:
    for proc_type, probes in healthcheck.items():
        if proc_type != "web/cmd" and not PROC_TYPE_RE.fullmatch(proc_type):
            raise ConfigError("healthcheck", PROC_TEXT)
        if probes is None:
            continue
        if not isinstance(probes, dict):
            raise ConfigError("healthcheck", f"could not validate {probes}: must be an object")
        for kind, probe in probes.items():
            if kind not in ("livenessProbe", "readinessProbe"):
                raise ConfigError("healthcheck", "Healthcheck keys must be either livenessProbe or readinessProbe")
            if probe is None:
                continue
            problem = probe_error(probe)
            if problem:
                raise ConfigError("healthcheck", f"could not validate {json.dumps(probe)}: {problem}")
            if kind == "livenessProbe" and probe.get("successThreshold", 1) != 1:
                raise ConfigError("healthcheck", "livenessProbe successThreshold can only be 1")


def validate(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The posted fields as objects, validated; raises ConfigError(field, message)."""
    changes: dict[str, dict[str, Any]] = {}
    for field in FIELDS:
        if field not in data or data[field] is None:
            continue
        value = as_object(field, data[field])
        if field == "values":
            _check_values(value)
        elif field in ("memory", "cpu"):
            _check_limits(field, value)
        elif field == "tags":
            _check_tags(value)
        elif field == "registry":
            for key in value:
                if not KEY_RE.fullmatch(key):
                    raise ConfigError("registry", KEY_TEXT)
            value = {k.lower(): v for k, v in value.items()}
            hostname = value.get("hostname")
            if hostname is not None and not (isinstance(hostname, str) and valid_registry_host(hostname)):
                raise ConfigError("registry", HOSTNAME_TEXT)
        elif field == "healthcheck":
            if any(k in value for k in ("livenessProbe", "readinessProbe")):
                value = {"web/cmd": value}
            _check_healthcheck(value)
        changes[field] = value
    return changes


def merge(current: dict[str, dict[str, Any]], changes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Apply posted changes to the current config: a `null` leaf unsets (MissingKey when absent)."""
    merged = {field: dict(current.get(field) or {}) for field in FIELDS}
    for field, posted in changes.items():
        target = merged[field]
        for key, value in posted.items():
            if field == "healthcheck" and isinstance(value, dict):
                probes = dict(target.get(key) or {})
                for kind, probe in value.items():
                    if probe is None:
                        if kind not in probes:
                            raise MissingKey(kind, field)
                        del probes[kind]
                    else:
                        probes[kind] = probe
                target[key] = probes
            elif value is None:
                if key not in target:
                    raise MissingKey(key, field)
                del target[key]
            else:
                target[key] = value if field == "healthcheck" else str(value) if not isinstance(value, str) \
                    else value
    _convert_legacy_healthcheck(merged)
    return merged


def _convert_legacy_healthcheck(config: dict[str, dict[str, Any]]) -> None:
    values = config["values"]
    url = values.get("HEALTHCHECK_URL")
    if url:
        probe: dict[str, Any] = {"httpGet": {"path": url, "port": int(values.get("PORT", 8080) or 8080)}}
        for key, (name, default) in HEALTHCHECK_DEFAULTS.items():
            probe[name] = int(values.get(key, default))
        config["healthcheck"]["web/cmd"] = {"livenessProbe": {**probe, "successThreshold": 1},
                                            "readinessProbe": dict(probe)}
    for key in [k for k in values if k.startswith("HEALTHCHECK_")]:
        del values[key]


def stringify(value: Any) -> str:
    """Output rule: every value is a string; Python-style booleans (`True`)."""
    if isinstance(value, bool):
        return "True" if value else "False"
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else str(value)
