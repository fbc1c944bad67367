"""Router cost: user-space instructions a proxied request costs in the platform's nginx against the bench's
minimal nginx, counted by valgrind (callgrind), so the figure does not move with the machine's load the way
req/s and CPU time do. One nginx process (master_process off, one worker) at a time, in front of a host
nginx answering a small page on 3 ports; `ab -k -c 8` sends 2,000 requests to warm it (JIT traces, keep-alive
pools), the counters are zeroed, then N more are counted. Then the router's config with one piece taken out at
a time, to show where its extra instructions go: the access log, the forwarded headers, the server_name
regexes of the API hosts, the Lua phases (routes from the shared dict → a static upstream).

Kernel work (sockets, epoll) is the same for both and not counted here: it is most of a request's CPU time.
Nor are instructions time: nginx's own code (the access log, the headers) runs many more of them a cycle than
the Lua path does — bench/router.py's same-work nginx shows the log and headers cost no measurable time,
while the Lua phases' ~11k instructions cost ~8 µs. Read the breakdown as where to look, and judge by time."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from workflow.router import nginx_config

from .router import RAW_CONF

N = 5000
WARM = 2000
PORTS = (18481, 18482, 18483)
LISTEN = 18480
PAGE = "<html><body>hello from a fast upstream</body></html>"

UPSTREAM_CONF = f"""\
worker_processes 1;
daemon off;
pid {{prefix}}/nginx.pid;
error_log {{prefix}}/error.log warn;
events {{{{ worker_connections 1024; }}}}
http {{{{
    access_log off;
    keepalive_requests 1000000;
    server {{{{
        {" ".join(f"listen 127.0.0.1:{p};" for p in PORTS)}
        location / {{{{ return 200 "{PAGE}\\n"; }}}}
    }}}}
}}}}
"""

# What each variant takes out of the router's rendered config (line filters / substitutions).
VARIANTS = {
    "router": (),
    "router without the access log": ("log",),
    "router without the forwarded headers": ("headers",),
    "router without the API hosts' regexes": ("regex",),
    "router without Lua (static upstream)": ("lua",),
    "router without any of these": ("log", "headers", "regex", "lua"),
}


def _single_process(text: str) -> str:
    """One process that accepts and proxies, so callgrind sees every request."""
    return text.replace("worker_processes auto;", "master_process off;\nworker_processes 1;", 1)


def minimal_conf(prefix: Path) -> str:
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p in PORTS)
    return "daemon off;\n" + _single_process(RAW_CONF.format(prefix=prefix, servers=servers, port=LISTEN))


def router_conf(prefix: Path, without: tuple[str, ...]) -> str:
    text = nginx_config.render(listen_port=LISTEN, tls_port=None, api_socket_path=prefix / "api.sock",
                               api_hosts=["deis.example.com"], prefix_dir=prefix,
                               control_socket=prefix / "control.sock", answers_dir=prefix)
    text = text.replace("master_process on;", "master_process off;").replace("worker_processes auto;",
                                                                               "worker_processes 1;")
    lines = text.splitlines()
    if "log" in without:
        lines = ["access_log off;" if line.strip().startswith("access_log") and "access.log" in line else line
                 for line in lines]
    if "headers" in without:  # what the minimal nginx sends: Host and Connection
        lines = [line for line in lines if not (line.strip().startswith("proxy_set_header")
                                                and line.split()[1] not in ("Host", "Connection"))]
    if "regex" in without:
        lines = [re.sub(r' "~[^"]*"', "", line) if line.strip().startswith("server_name") else line
                 for line in lines]
    if "lua" in without:
        lines = [line for line in lines if not any(phase in line for phase in (
            "log_by_lua_block", "balancer_by_lua_block"))]
        lines = [line.replace("server 0.0.0.1;", " ".join(f"server 127.0.0.1:{p};" for p in PORTS))
                 for line in lines]
    return "\n".join(lines) + "\n"


def write_route(control_socket: Path) -> None:
    """The app's route (host → the 3 upstream ports), as the controller writes it."""
    route = {"version": 1, "app": "cost", "hosts": ["cost.localhost"],
             "upstreams": [["127.0.0.1", p, f"127.0.0.1:{p}"] for p in PORTS],
             "maintenance": False, "whitelist": [], "https": False, "certs": {}}
    body = json.dumps([{"app": "cost", "version": 1, "route": json.dumps(route)}])
    out = subprocess.run(["curl", "-sS", "--unix-socket", str(control_socket), "-X", "PUT", "http://router/apps",
                          "-d", body], capture_output=True, text=True, timeout=30).stdout
    if '"ok"' not in out:
        raise RuntimeError(f"route not written: {out}")


def ab(requests: int) -> None:
    out = subprocess.run(["ab", "-q", "-k", "-n", str(requests), "-c", "8", "-H", "Host: cost.localhost",
                          f"http://127.0.0.1:{LISTEN}/"], capture_output=True, text=True, timeout=600).stdout
    if "Failed requests:        0" not in out or "Non-2xx" in out:
        raise RuntimeError(f"ab: failed requests\n{out}")


def instructions(conf: str, control_socket: Path | None, prefix: Path) -> float:
    """User-space instructions per request of one nginx process running `conf`."""
    (prefix / "nginx.conf").write_text(conf)
    out_file = prefix / "callgrind.out"
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}",
                             "nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{LISTEN}/"]).returncode != 0:
            if time.monotonic() > deadline or proc.poll() is not None:
                logs = "".join(p.read_text()[-2000:] for p in prefix.rglob("*.log"))
                raise RuntimeError(f"nginx under valgrind did not start: {logs}")
            time.sleep(0.2)
        if control_socket is not None:
            write_route(control_socket)
        ab(WARM)
        subprocess.run(["callgrind_control", "--zero", str(proc.pid)], capture_output=True, check=True)
        ab(N)
        subprocess.run(["callgrind_control", "--dump", str(proc.pid)], capture_output=True, check=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for dump in prefix.glob("callgrind.out.*"):
                text = dump.read_text(errors="replace")
                found = re.search(r"^totals: (\d+)", text, re.M)
                if found:
                    return int(found.group(1)) / N
            time.sleep(0.2)
        raise RuntimeError("callgrind wrote no dump")
    finally:
        proc.terminate()
        proc.wait(30)


def run() -> dict[str, float]:
    print("== routercost: user-space instructions per proxied request (callgrind), one nginx process", flush=True)
    if not shutil.which("valgrind") or not shutil.which("ab"):
        print("    skipped: needs valgrind and ab (apt-get install valgrind apache2-utils)")
        return {}
    upstream_dir = Path(tempfile.mkdtemp(prefix="bench-cost-up-"))
    (upstream_dir / "nginx.conf").write_text(UPSTREAM_CONF.format(prefix=upstream_dir))
    upstream = subprocess.Popen(["nginx", "-p", str(upstream_dir), "-c", str(upstream_dir / "nginx.conf")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results: dict[str, float] = {}
    try:
        time.sleep(0.5)
        counts = {}
        prefix = Path(tempfile.mkdtemp(prefix="bench-cost-"))
        try:
            (prefix / "logs").mkdir()
            counts["minimal nginx"] = instructions(minimal_conf(prefix), None, prefix)
            print(f"    {'minimal nginx (as in bench/router.py)':<42} {counts['minimal nginx']:8.0f}", flush=True)
        finally:
            shutil.rmtree(prefix, ignore_errors=True)
        for name, without in VARIANTS.items():
            prefix = Path(tempfile.mkdtemp(prefix="bench-cost-"))
            try:
                (prefix / "logs").mkdir()
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
                    (prefix / "tmp" / kind).mkdir(parents=True)
                counts[name] = instructions(router_conf(prefix, without), prefix / "control.sock", prefix)
            finally:
                shutil.rmtree(prefix, ignore_errors=True)
            change = f"  ({counts[name] - counts['router']:+6.0f} vs the router)" if without else ""
            print(f"    {name:<42} {counts[name]:8.0f}{change}", flush=True)
        base = counts["minimal nginx"]
        ratio = counts["router"] / base
        print(f"    router / minimal: {ratio:.2f}× the instructions ({counts['router'] - base:+.0f} a request)")
        results["router instructions/request ours/raw"] = ratio
    finally:
        upstream.terminate()
        upstream.wait(10)
        shutil.rmtree(upstream_dir, ignore_errors=True)
    return results
