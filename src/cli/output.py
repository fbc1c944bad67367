"""Everything `deis` prints goes through here, in the exact shapes the Workflow CLI prints.

Primitives (`write`, `line`, `error`, `spinner`, prompts) plus the formatters several commands share
(`processes`, `pretty_tabs`, `tabwriter`, `limit_count`, …). Go's `fmt.Println(a, b)` joins operands with
one space, which is why many labels below carry a trailing space before the value.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

TYPE_CHECKING = False  # `typing` costs milliseconds at every start; annotations only need it for checkers
if TYPE_CHECKING:
    from typing import Any

# --- primitives -------------------------------------------------------------------------------------


def write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def line(text: str = "") -> None:
    write(text + "\n")


def error(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def error_line(text: str) -> None:
    error(text + "\n")


def fail(message: str) -> None:
    """The one way a command reports failure: `Error: <message>` on stderr."""
    error_line(f"Error: {message}")


def raw_json(body: str) -> None:
    """`--json`: the API answer exactly as received."""
    line(body.rstrip("\n"))


def json_value(value: Any) -> None:
    import json  # here, not at the top: start-up time of every `deis` run

    line(json.dumps(value, separators=(",", ":")))


def stdout_is_tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def stdin_is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def prompt(text: str) -> str:
    """Print `text` (no newline) and read one line, like Go's `fmt.Scanln`."""
    write(text)
    answer = sys.stdin.readline()
    return answer.rstrip("\r\n")


def prompt_password(text: str) -> str:
    write(text)
    import getpass

    return getpass.getpass(prompt="")


def api_mismatch_warning(client_version: str, server_version: str) -> None:
    error(
        "!    WARNING: Client and server API versions do not match. Please consider upgrading.\n"
        f"!    Client version: {client_version}\n"
        f"!    Server version: {server_version}\n"
    )


FRAMES = ("...", "o..", ".o.", "..o")


@contextmanager
def spinner(interval: float = 0.4) -> Iterator[None]:
    """The Workflow CLI progress dots; only drawn when stdout is a terminal."""
    if not stdout_is_tty():
        yield
        return
    import threading

    stop = threading.Event()

    def run() -> None:
        while True:
            for frame in FRAMES:
                write(frame)
                if stop.wait(interval):
                    write("\b\b\b")
                    return
                write("\b\b\b")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# --- shared formatters ------------------------------------------------------------------------------


def limit_count(shown: int, total: int) -> str:
    """Suffix of list headers (`limitCount`): newline, or ` (<shown> of <total>)` + newline."""
    if shown == total:
        return "\n"
    return f" ({shown} of {total})\n"


def go_value(value: Any) -> str:
    """`fmt.Sprintf("%v", v)` for JSON-decoded values."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_value(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def pretty_tabs(values: Mapping[str, Any], spaces: int) -> str:
    """deis/pkg `prettyprint.PrettyTabs`: keys sorted, padded to longest key + `spaces`."""
    if not values:
        return ""
    width = max(len(k) for k in values) + spaces
    return "".join(f"{k}{' ' * (width - len(k))}{go_value(values[k])}\n" for k in sorted(values))


def tabwriter(rows: Iterable[Iterable[str]], padchar: str = "\t", padding: int = 1, tabwidth: int = 8) -> str:
    """Go `text/tabwriter` (minwidth 0, no flags) for rows whose cells are tab-terminated except the
    last: with padchar '\\t' widths round up to tab stops and cells are padded with tabs."""
    table = [list(r) for r in rows]
    if not table:
        return ""
    ncols = max(len(r) for r in table)
    widths: list[int] = []
    for col in range(ncols - 1):
        cells = [len(r[col]) for r in table if col < len(r) - 1]
        width = (max(cells) if cells else 0) + padding
        if padchar == "\t":
            width = -(-width // tabwidth) * tabwidth
        widths.append(width)
    out = []
    for r in table:
        parts = []
        for col, cell in enumerate(r):
            if col < len(r) - 1:
                gap = widths[col] - len(cell)
                pad = "\t" * -(-gap // tabwidth) if padchar == "\t" else padchar * gap
                parts.append(cell + pad)
            else:
                parts.append(cell)
        out.append("".join(parts) + "\n")
    return "".join(out)


def processes(app: str, pods: list[dict]) -> None:
    """`printProcesses`: types sorted; pods sorted by name within a type. A pod that names its node (on a
    swarm) says where it runs after the Go CLI's line, which stays as it was (one machine: unchanged)."""
    by_type: dict[str, list[dict]] = {}
    for pod in pods:
        by_type.setdefault(pod.get("type", ""), []).append(pod)
    line(f"=== {app} Processes")
    for ptype in sorted(by_type):
        line(f"--- {ptype}:")
        for pod in sorted(by_type[ptype], key=lambda p: p.get("name", "")):
            where = f" on {pod['node']}" if isinstance(pod.get("node"), str) and pod["node"] else ""
            line(f"{pod.get('name', '')} {pod.get('state', '')} ({pod.get('release', '')}){where}")


def println(*parts: Any) -> None:
    """Go `fmt.Println(a, b, ...)`: operands joined by one space."""
    line(" ".join(go_value(p) for p in parts))


def config_list(app: str, values: Mapping[str, Any], fmt: str = "") -> None:
    keys = sorted(values)
    if fmt == "oneline":
        write(" ".join(f"{k}={go_value(values[k])}" for k in keys) + ("\n" if keys else ""))
    elif fmt == "diff":
        write("".join(f"{k}={go_value(values[k])}\n" for k in keys))
    else:
        line(f"=== {app} Config")
        write(pretty_tabs(values, 6))


def dotenv(values: Mapping[str, Any]) -> str:
    return "".join(f"{k}={go_value(values[k])}\n" for k in sorted(values))


def limits(app: str, config: Mapping[str, Any]) -> None:
    line(f"=== {app} Limits\n")
    line("--- Memory")
    memory = config.get("memory") or {}
    write(pretty_tabs(memory, 5) if memory else "Unlimited\n")
    line("\n--- CPU")
    cpu = config.get("cpu") or {}
    write(pretty_tabs(cpu, 5) if cpu else "Unlimited\n")


def _probe_part(value: Any, kind: str) -> str:
    if not value:
        return "N/A"
    if kind == "exec":
        return "Command=[" + " ".join(str(c) for c in value.get("command") or []) + "]"
    if kind == "httpGet":
        headers = value.get("httpHeaders") or []
        rendered = "[" + " ".join(f"{h.get('name', h.get('key', ''))}={h.get('value', '')}" for h in headers) + "]"
        return f'Path="{value.get("path", "")}" Port={value.get("port", 0)} HTTPHeaders={rendered}'
    return f"Port={value.get('port', 0)}"


def probe(probe_: Mapping[str, Any]) -> str:
    """SDK `api.Healthcheck.String()`."""
    return (
        f"Initial Delay (seconds): {probe_.get('initialDelaySeconds', 0)}\n"
        f"Timeout (seconds): {probe_.get('timeoutSeconds', 0)}\n"
        f"Period (seconds): {probe_.get('periodSeconds', 0)}\n"
        f"Success Threshold: {probe_.get('successThreshold', 0)}\n"
        f"Failure Threshold: {probe_.get('failureThreshold', 0)}\n"
        f"Exec Probe: {_probe_part(probe_.get('exec'), 'exec')}\n"
        f"HTTP GET Probe: {_probe_part(probe_.get('httpGet'), 'httpGet')}\n"
        f"TCP Socket Probe: {_probe_part(probe_.get('tcpSocket'), 'tcpSocket')}"
    )


def _health_block(checks: Mapping[str, Any]) -> None:
    line("--- Liveness")
    live = checks.get("livenessProbe")
    line(probe(live) if live else "No liveness probe configured.")
    line("\n--- Readiness")
    ready = checks.get("readinessProbe")
    line(probe(ready) if ready else "No readiness probe configured.")


def healthchecks(app: str, healthcheck: Mapping[str, Any], proc_type: str = "") -> None:
    line(f"=== {app} Healthchecks")
    if not proc_type:
        if not healthcheck:
            line("No health checks configured.")
            return
        for key in sorted(healthcheck):
            write(f"\n{key}:\n")
            _health_block(healthcheck[key] or {})
    else:
        write(f"\n{proc_type}:\n")
        _health_block(healthcheck.get(proc_type) or {})


def user(u: Mapping[str, Any]) -> None:
    """SDK `api.User.String()` (users carry no id, so `ID: 0`)."""
    line(
        f"ID: {u.get('id', 0)}\n"
        f"Username: {u.get('username', '')}\n"
        f"Email: {u.get('email', '')}\n"
        f"First Name: {u.get('first_name', '')}\n"
        f"Last Name: {u.get('last_name', '')}\n"
        f"Last Login: {u.get('last_login') or ''}\n"
        f"Is Superuser: {go_value(bool(u.get('is_superuser')))}\n"
        f"Is Staff: {go_value(bool(u.get('is_staff')))}\n"
        f"Is Active: {go_value(bool(u.get('is_active')))}\n"
        f"Date Joined: {u.get('date_joined', '')}"
    )


def labels(app: str, label: Mapping[str, Any]) -> None:
    line(f"=== {app} Label")
    if not label:
        line("No labels found.")
    else:
        write(pretty_tabs({k + ":": v for k, v in label.items()}, 6))


def autoscale(app: str, rules: Mapping[str, Any] | None) -> None:
    line(f"=== {app} Autoscale\n")
    if not rules:
        line("No autoscale rules found.")
        return
    for proc in sorted(rules):
        rule = rules[proc] or {}
        line(f"--- {proc}:")
        lines = [f"Min Replicas: {rule.get('min', 0)}", f"Max Replicas: {rule.get('max', 0)}"]
        # The Go CLI's CPU line, unless the rule is only on requests (ours: the two lines after it).
        if "cpu_percent" in rule or not ({"rps_per_container", "p95_ms"} & rule.keys()):
            lines.append(f"CPU: {rule.get('cpu_percent', 0)}%")
        if "rps_per_container" in rule:
            lines.append(f"Requests/s per container: {rule['rps_per_container']}")
        if "p95_ms" in rule:
            lines.append(f"p95 latency: {rule['p95_ms']} ms")
        line("\n".join(lines))


def table(header: list[str], rows: list[list[str]]) -> None:
    """olekukonko/tablewriter without borders, as `certs:list` uses it."""
    widths = [len(h) for h in header]
    for r in rows:
        for i, cell in enumerate(r):
            widths[i] = max(widths[i], len(cell))

    def render(cells: list[str], center: bool) -> str:
        parts = []
        for i, cell in enumerate(cells):
            if center:
                total = widths[i] - len(cell)
                left = total // 2
                parts.append(" " + " " * left + cell + " " * (total - left) + " ")
            else:
                parts.append(" " + cell.ljust(widths[i]) + " ")
        return "|".join(parts).rstrip() + "\n"

    write(render(header, True))
    write("+".join("-" * (w + 2) for w in widths) + "\n")
    for r in rows:
        write(render(r, False))
