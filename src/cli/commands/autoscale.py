"""`deis autoscale:list`'s lines after the Go CLI's: what the controller's autoscaler last measured and did.

The Go CLI prints only the rules; these lines come after them, so its own lines stay as they were. A
controller without the autoscale status endpoint (404) adds nothing.
"""

from __future__ import annotations

from cli import output
from cli.client import Client


def print_status(client: Client, app_id: str) -> None:
    response = client.raw("GET", f"/v2/apps/{app_id}/autoscale/")
    if response.status_code != 200:
        return
    data = response.json() if response.content else {}
    if not isinstance(data, dict):
        return
    for proc_type in sorted(data):
        status = data[proc_type] or {}
        usage = status.get("cpu_usage_percent")
        rps, p95 = status.get("requests_per_container"), status.get("p95_latency_ms")
        parts = [f"CPU {usage}%"] if usage is not None else []
        parts += [f"{rps} requests/s per container"] if rps is not None else []
        parts += [f"p95 {p95} ms"] if p95 is not None else []
        measured = (f"{', '.join(parts)} at {status.get('measured')}" if parts
                    else "CPU not measured yet" if status.get("cpu_percent") is not None else "not measured yet")
        output.line(f"Current Replicas ({proc_type}): {status.get('current', 0)}, {measured}")
        decision = status.get("last_decision")
        output.line(f"Last Decision ({proc_type}): "
                    + (f"{status.get('last_decision_at')} {decision}" if decision else "none"))
