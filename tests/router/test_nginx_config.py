"""render(): the static config (API hosts, catch-all app servers, control socket); screen(): the routes pushed to
nginx, and refusal of values that could reach it unchecked."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from workflow.router import AppRoute, CertFiles, InvalidRoute, RouteTable
from workflow.router.entries import normalize_host, screen
from workflow.router.nginx_config import render

from .helpers import self_signed


def conf(table: RouteTable | None = None, **kwargs) -> str:
    params = {
        "listen_port": 8000,
        "tls_port": 8443,
        "api_socket_path": "/srv/wf/api.sock",
        "api_hosts": ["deis.example.test"],
        "prefix_dir": "/srv/wf/nginx",
        "control_socket": "/srv/wf/nginx/control/control.sock",
        "answers_dir": "/srv/wf/nginx/answers",
        "fallback_cert": ("/srv/wf/nginx/fallback.crt", "/srv/wf/nginx/fallback.key"),
    }
    params.update(kwargs)
    return render(**params)


def bodies(table: RouteTable, reserved=("localhost", "127.0.0.1", "deis.example.test"), pems=None) -> dict:
    """app → the route body pushed to nginx (None: no hosts)."""
    used = screen(table, set(reserved), pems or {}).used
    return {app: (json.loads(body) if body else None) for app, (_, body, _) in used.items()}


def server_block(text: str, marker: str) -> str:
    """The server block whose text contains `marker`."""
    for block in text.split("    server {")[1:]:
        if marker in block:
            return block
    raise AssertionError(f"no server block with {marker!r}")


class TestSkeleton:
    def test_runs_in_the_foreground_with_everything_under_the_prefix(self):
        text = conf()
        assert "daemon off;" in text
        assert "master_process on;" in text
        assert "worker_processes auto;" in text
        assert 'pid "/srv/wf/nginx/nginx.pid";' in text
        assert 'error_log "/srv/wf/nginx/logs/error.log" warn;' in text
        assert 'access_log "/srv/wf/nginx/logs/access.log"' in text
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            assert f'{kind}_temp_path "/srv/wf/nginx/tmp/{kind}";' in text
        assert "/var/" not in text

    def test_unknown_hosts_go_to_the_lua_catch_all(self):
        block = server_block(conf(), "default_server;")
        assert "listen 8000 default_server;" in block
        assert "proxy_pass http://workflow_apps;" in block
        assert "log_by_lua_block { workflow_router.log() }" in block
        assert "access_by_lua" not in conf()  # the balancer routes: one Lua phase less for every request

    def test_answers_not_proxied_to_an_app_come_from_internal_servers(self):
        text = conf()
        peers = ", ".join(f"{name} = [[unix:/srv/wf/nginx/answers/{name}.sock]]"
                          for name in ("not_found", "not_ready", "forbidden", "to_https", "maintenance",
                                       "no_containers"))
        assert f"workflow_router.configure({{ answers = {{ {peers} }} }})" in text
        assert "return 404;" in server_block(text, "listen unix:/srv/wf/nginx/answers/not_found.sock;")
        assert "return 403;" in server_block(text, "listen unix:/srv/wf/nginx/answers/forbidden.sock;")
        redirect = "return 301 https://$host:8443$request_uri;"
        assert redirect in server_block(text, "listen unix:/srv/wf/nginx/answers/to_https.sock;")
        assert "return 301 https://$host$request_uri;" in conf(tls_port=443)
        page = server_block(text, "listen unix:/srv/wf/nginx/answers/maintenance.sock;")
        assert "default_type text/html;" in page and "return 503 '<!DOCTYPE html>" in page
        assert "Please try again later.</p></body></html>\\n';" in page
        none = server_block(text, "listen unix:/srv/wf/nginx/answers/no_containers.sock;")
        assert "default_type text/plain;" in none
        assert "return 503 'No containers of this app are running.\\n';" in none
        starting = server_block(text, "listen unix:/srv/wf/nginx/answers/not_ready.sock;")
        assert "add_header Retry-After 1 always;" in starting and "return 503 'This router has not" in starting
        with pytest.raises(InvalidRoute):
            conf(answers_dir="/srv/wf/answers]")

    def test_api_hosts_go_to_the_api_socket_unbuffered(self):
        text = conf()
        block = server_block(text, "workflow_api")
        assert 'server_name localhost 127.0.0.1 deis.example.test ""' in block
        assert '"~^(?:[0-9.]+|\\[[0-9a-f:.]+\\])$"' in block
        assert "proxy_buffering off;" in block
        assert "proxy_read_timeout 1200s;" in block
        # request bodies bounded (issue 18): 1 MiB, refused with the Deis error shape
        assert "client_max_body_size 1048576;" in block
        assert "error_page 413 @workflow_body_too_large;" in block
        assert "at most 1048576 bytes" in conf()
        assert "client_max_body_size 4096;" in conf(api_max_body_bytes=4096)
        assert 'server "unix:/srv/wf/api.sock";' in text
        assert "proxy_set_header Host $workflow_host;" in text
        assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in text

    def test_no_tls_port_means_no_tls(self):
        assert "ssl" not in conf(tls_port=None, fallback_cert=None)

    def test_worker_user_and_ipv6(self):
        text = conf(worker_user="root", ipv6=True)
        assert "user root;" in text
        assert "listen [::]:8000 default_server;" in text

    def test_lua_routes_in_shared_memory_and_a_private_control_socket(self):
        text = conf()
        assert "load_module \"/usr/lib/nginx/modules/ngx_http_lua_module.so\";" in text
        assert "lua_shared_dict workflow_routes" in text and "lua_shared_dict workflow_stats" in text
        block = server_block(text, "listen unix:/srv/wf/nginx/control/")
        assert "listen unix:/srv/wf/nginx/control/control.sock;" in block
        assert "content_by_lua_block { workflow_control.handle() }" in block

    def test_upstreams_keepalive_retry_and_websockets(self):
        text = conf()
        assert "upstream workflow_apps {" in text
        assert "balancer_by_lua_block { workflow_router.balance() }" in text
        assert "keepalive 32;\n        keepalive_timeout 2s;" in text
        assert "proxy_next_upstream error timeout;" in text
        assert "proxy_next_upstream_tries 3;" in text
        assert "map $http_upgrade $workflow_connection" in text
        assert "proxy_set_header Connection $workflow_connection;" in text
        assert 'proxy_set_header X-Request-Start "t=${msec}";' in text

    def test_tls_certificates_by_sni_in_lua(self):
        text = conf()
        block = server_block(text, "ssl_certificate_by_lua_block")
        assert "listen 8443 ssl default_server http2;" in block
        assert 'ssl_certificate "/srv/wf/nginx/fallback.crt";' in block
        assert "proxy_pass http://workflow_apps;" in block

    def test_trusted_proxies(self):
        text = conf(trusted_proxies=["10.0.0.0/8"])
        assert "set_real_ip_from 10.0.0.0/8;" in text
        assert "real_ip_header X-Forwarded-For;" in text
        assert "real_ip_header" not in conf()


class TestRouteBodies:
    def test_hosts_upstreams_and_flags(self):
        route = AppRoute("web-1", ["web-1.example.test", "WWW.Example.Test."], ["10.0.0.2:8080", "[fd00::3]:80"],
                         maintenance=True, https_enforced=True)
        body = bodies(RouteTable([route]))["web-1"]
        assert body["hosts"] == ["web-1.example.test", "www.example.test"]
        assert body["upstreams"] == [["10.0.0.2", 8080, "10.0.0.2:8080"], ["fd00::3", 80, "[fd00::3]:80"]]
        assert body["maintenance"] is True and body["https"] is True

    def test_not_routable_has_no_hosts(self):
        assert bodies(RouteTable([AppRoute("web", ["web.example.test"], ["10.0.0.2:80"], routable=False)])) == \
            {"web": None}

    def test_whitelist_as_bytes_and_prefix(self):
        route = AppRoute("my-app", ["a.example.test"], ["10.0.0.2:80"], whitelist=["10.1.2.3", "192.168.1.7/24"])
        assert bodies(RouteTable([route]))["my-app"]["whitelist"] == [[[10, 1, 2, 3], 32], [[192, 168, 1, 0], 24]]

    def test_certificates_of_the_route_hosts_only(self):
        files = CertFiles("/certs/web.crt", "/certs/web.key")
        route = AppRoute("web", ["web.example.test"], ["10.0.0.2:80"],
                         certificates={"WEB.example.test": files, "gone.example.test": files})
        body = bodies(RouteTable([route]), pems={"/certs/web.crt": "CERT", "/certs/web.key": "KEY"})["web"]
        assert list(body["certs"]) == ["web.example.test"]
        assert body["certs"]["web.example.test"]["cert"] == "CERT"
        assert body["certs"]["web.example.test"]["key"] == "KEY"

    def test_a_host_belongs_to_its_first_claimant_and_never_shadows_the_api(self):
        out = bodies(RouteTable([
            AppRoute("a", ["shared.example.test", "deis.example.test", "localhost"], ["10.0.0.2:80"]),
            AppRoute("b", ["shared.example.test", "b.example.test"], ["10.0.0.3:80"]),
        ]))
        assert out["a"]["hosts"] == ["shared.example.test"]
        assert out["b"]["hosts"] == ["b.example.test"]


class TestHostileValues:
    @pytest.mark.parametrize("host", [
        "evil.test; include /etc/passwd",
        "evil.test\n}",
        "a b.test",
        "$host",
        '"quoted".test',
        "*",
        "foo.*.bar",
        "under_score.test",
        "x" * 64 + ".test",
        "",
        "{}.test",
    ])
    def test_hostile_hosts_are_refused(self, host):
        with pytest.raises(InvalidRoute):
            bodies(RouteTable([AppRoute("web", [host], ["10.0.0.2:80"])]))
        with pytest.raises(InvalidRoute):
            conf(api_hosts=[host])

    def test_normalize_host(self):
        assert normalize_host("ドメイン.テスト") == "xn--eckwd4c7c.xn--zckzah"
        assert normalize_host("*.Example.COM.") == "*.example.com"
        assert normalize_host("django.paas--sandbox") == "django.paas--sandbox"

    @pytest.mark.parametrize("upstream", ["10.0.0.2", "10.0.0.2:0", "10.0.0.2:80;", "host:80", "fd00::1:80",
                                          "10.0.0.2:80 backup"])
    def test_bad_upstreams_are_refused(self, upstream):
        with pytest.raises(InvalidRoute):
            bodies(RouteTable([AppRoute("web", ["web.test"], [upstream])]))

    @pytest.mark.parametrize("route", [
        AppRoute("web", ["web.test"], whitelist=["10.0.0.0/8; allow all"]),
        AppRoute("web", ["web.test"], certificates={"web.test": CertFiles("/c/$host.crt", "/c/k")}),
        AppRoute("web", ["web.test"], certificates={"web.test": CertFiles('/c/"x.crt', "/c/k")}),
        AppRoute("web", ["web.test"], certificates={"web.test": CertFiles("relative.crt", "/c/k")}),
        AppRoute("Web;", ["web.test"]),
    ])
    def test_other_bad_values_are_refused(self, route):
        with pytest.raises(InvalidRoute):
            bodies(RouteTable([route]))

    def test_bad_socket_path_and_proxy(self):
        with pytest.raises(InvalidRoute):
            conf(api_socket_path="/run/x.sock; }")
        with pytest.raises(InvalidRoute):
            conf(trusted_proxies=["everyone"])


async def test_nginx_accepts_the_config_with_every_option(tmp_path: Path):
    files, _ = self_signed(tmp_path, "web.example.test")
    prefix = tmp_path / "nginx"
    (prefix / "logs").mkdir(parents=True)
    (prefix / "tmp").mkdir()
    text = conf(prefix_dir=prefix, api_socket_path=tmp_path / "api.sock", control_socket=tmp_path / "c.sock",
                answers_dir=tmp_path, fallback_cert=(files.cert_path, files.key_path),
                trusted_proxies=["127.0.0.1", "fd00::/8"], worker_user="root", ipv6=True)
    config = prefix / "nginx.conf"
    await asyncio.to_thread(config.write_text, text)
    proc = await asyncio.create_subprocess_exec(
        "nginx", "-t", "-p", f"{prefix}/", "-c", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await proc.communicate()
    assert proc.returncode == 0, output.decode()
    assert b"[warn]" not in output
