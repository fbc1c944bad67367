"""render(): the directives that carry each routing rule, and refusal of values that could inject config."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from workflow.router import AppRoute, CertFiles, InvalidRoute, RouteTable
from workflow.router.nginx_config import GENERATION_PATH, normalize_host, render

from .helpers import self_signed


def conf(table: RouteTable, **kwargs) -> str:
    params = {
        "listen_port": 8000,
        "tls_port": 8443,
        "api_socket_path": "/srv/wf/api.sock",
        "api_hosts": ["deis.example.test"],
        "prefix_dir": "/srv/wf/nginx",
    }
    params.update(kwargs)
    return render(table, **params)


def server_block(text: str, marker: str) -> str:
    """The server block whose text contains `marker`."""
    for block in text.split("    server {")[1:]:
        if marker in block:
            return block
    raise AssertionError(f"no server block with {marker!r}")


class TestSkeleton:
    def test_runs_in_the_foreground_with_everything_under_the_prefix(self):
        text = conf(RouteTable())
        assert "daemon off;" in text
        assert "master_process on;" in text
        assert "worker_processes auto;" in text
        assert 'pid "/srv/wf/nginx/nginx.pid";' in text
        assert 'error_log "/srv/wf/nginx/logs/error.log" warn;' in text
        assert 'access_log "/srv/wf/nginx/logs/access.log"' in text
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            assert f'{kind}_temp_path "/srv/wf/nginx/tmp/{kind}";' in text
        assert "/var/" not in text

    def test_unknown_hosts_get_404_from_the_default_server(self):
        block = server_block(conf(RouteTable()), "default_server;")
        assert "listen 8000 default_server;" in block
        assert "return 404;" in block

    def test_api_hosts_go_to_the_api_socket_unbuffered(self):
        text = conf(RouteTable(), generation=7)
        block = server_block(text, "workflow_api")
        assert 'server_name localhost 127.0.0.1 deis.example.test ""' in block
        assert '"~^[0-9.]+$"' in block and '"~^\\[[0-9a-f:.]+\\]$"' in block
        assert "proxy_buffering off;" in block
        assert "proxy_read_timeout 1200s;" in block
        # request bodies bounded (issue 18): 1 MiB, refused with the Deis error shape
        assert "client_max_body_size 1048576;" in block
        assert "error_page 413 @workflow_body_too_large;" in block
        assert "at most 1048576 bytes" in conf(RouteTable())
        assert "client_max_body_size 4096;" in conf(RouteTable(), api_max_body_bytes=4096)
        assert f"location = {GENERATION_PATH}" in block
        assert 'return 200 "7\\n";' in block
        assert 'server "unix:/srv/wf/api.sock";' in text
        assert "proxy_set_header Host $workflow_host;" in text
        assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in text

    def test_no_tls_port_means_no_tls(self):
        assert "ssl" not in conf(RouteTable(), tls_port=None)

    def test_worker_user_and_ipv6(self):
        text = conf(RouteTable(), worker_user="root", ipv6=True)
        assert "user root;" in text
        assert "listen [::]:8000 default_server;" in text


class TestAppRoutes:
    def test_upstreams_keepalive_retry_and_websockets(self):
        route = AppRoute("web-1", ["web-1.example.test", "WWW.Example.Test."], ["10.0.0.2:8080", "[fd00::3]:80"])
        text = conf(RouteTable([route]))
        assert "upstream app_web-1 {\n        server 10.0.0.2:8080;\n        server [fd00::3]:80;\n" \
               "        keepalive 32;\n        keepalive_timeout 2s;\n    }" in text
        block = server_block(text, "server_name web-1.example.test")
        assert "server_name web-1.example.test www.example.test;" in block
        assert "proxy_pass http://app_web-1;" in block
        assert "proxy_next_upstream error timeout;" in text
        assert "proxy_next_upstream_tries 3;" in text
        assert "map $http_upgrade $workflow_connection" in text
        assert "proxy_set_header Connection $workflow_connection;" in text
        assert 'proxy_set_header X-Request-Start "t=${msec}";' in text

    def test_no_upstreams_is_503_without_an_upstream_block(self):
        text = conf(RouteTable([AppRoute("web", ["web.example.test"], [])]))
        assert "upstream app_web" not in text
        assert "return 503" in server_block(text, "server_name web.example.test")

    def test_maintenance_is_503(self):
        text = conf(RouteTable([AppRoute("web", ["web.example.test"], ["10.0.0.2:80"], maintenance=True)]))
        block = server_block(text, "server_name web.example.test")
        assert 'return 503 "<!DOCTYPE html>' in block
        assert "proxy_pass" not in block

    def test_not_routable_has_no_block(self):
        text = conf(RouteTable([AppRoute("web", ["web.example.test"], ["10.0.0.2:80"], routable=False)]))
        assert "web.example.test" not in text

    def test_whitelist_is_checked_first(self):
        route = AppRoute("my-app", ["a.example.test"], ["10.0.0.2:80"], whitelist=["10.1.2.3", "192.168.1.7/24"],
                         https_enforced=True, maintenance=True)
        text = conf(RouteTable([route]))
        assert "geo $workflow_allow_my_app {\n        default 0;\n        10.1.2.3/32 1;\n" \
               "        192.168.1.0/24 1;\n    }" in text
        block = server_block(text, "server_name a.example.test")
        assert block.index("return 403") < block.index("return 301") < block.index("return 503")

    def test_https_enforced_redirects_plain_http(self):
        route = AppRoute("web", ["web.example.test"], ["10.0.0.2:80"], https_enforced=True)
        block = server_block(conf(RouteTable([route])), "server_name web.example.test")
        assert "return 301 https://$host:8443$request_uri;" in block
        block = server_block(conf(RouteTable([route]), tls_port=443), "server_name web.example.test")
        assert "return 301 https://$host$request_uri;" in block

    def test_certificates_get_a_tls_server_per_host(self):
        files = CertFiles("/certs/web.crt", "/certs/web.key")
        route = AppRoute("web", ["web.example.test", "other.example.test"], ["10.0.0.2:80"],
                         https_enforced=True, certificates={"WEB.example.test": files})
        text = conf(RouteTable([route]))
        assert "listen 8443 ssl default_server http2;" in text
        assert "ssl_reject_handshake on;" in text
        block = server_block(text, "ssl_certificate ")
        assert "listen 8443 ssl;" in block
        assert "server_name web.example.test;" in block
        assert 'ssl_certificate "/certs/web.crt";' in block
        assert 'ssl_certificate_key "/certs/web.key";' in block
        assert "return 301" not in block
        assert "proxy_pass http://app_web;" in block

    def test_a_host_belongs_to_its_first_claimant_and_never_shadows_the_api(self):
        text = conf(RouteTable([
            AppRoute("a", ["shared.example.test", "deis.example.test", "localhost"], ["10.0.0.2:80"]),
            AppRoute("b", ["shared.example.test", "b.example.test"], ["10.0.0.3:80"]),
        ]))
        assert "server_name shared.example.test;" in text
        assert "server_name b.example.test;" in text

    def test_trusted_proxies(self):
        text = conf(RouteTable(), trusted_proxies=["10.0.0.0/8"])
        assert "set_real_ip_from 10.0.0.0/8;" in text
        assert "real_ip_header X-Forwarded-For;" in text
        assert "real_ip_header" not in conf(RouteTable())


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
            conf(RouteTable([AppRoute("web", [host], ["10.0.0.2:80"])]))
        with pytest.raises(InvalidRoute):
            conf(RouteTable(), api_hosts=[host])

    def test_normalize_host(self):
        assert normalize_host("ドメイン.テスト") == "xn--eckwd4c7c.xn--zckzah"
        assert normalize_host("*.Example.COM.") == "*.example.com"
        assert normalize_host("django.paas--sandbox") == "django.paas--sandbox"

    @pytest.mark.parametrize("upstream", ["10.0.0.2", "10.0.0.2:0", "10.0.0.2:80;", "host:80", "fd00::1:80",
                                          "10.0.0.2:80 backup"])
    def test_bad_upstreams_are_refused(self, upstream):
        with pytest.raises(InvalidRoute):
            conf(RouteTable([AppRoute("web", ["web.test"], [upstream])]))

    @pytest.mark.parametrize("route", [
        AppRoute("web", ["web.test"], whitelist=["10.0.0.0/8; allow all"]),
        AppRoute("web", ["web.test"], certificates={"web.test": CertFiles("/c/$host.crt", "/c/k")}),
        AppRoute("web", ["web.test"], certificates={"web.test": CertFiles('/c/"x.crt', "/c/k")}),
        AppRoute("web", ["web.test"], certificates={"web.test": CertFiles("relative.crt", "/c/k")}),
        AppRoute("Web;", ["web.test"]),
    ])
    def test_other_bad_values_are_refused(self, route):
        with pytest.raises(InvalidRoute):
            conf(RouteTable([route]))

    def test_bad_socket_path_and_proxy(self):
        with pytest.raises(InvalidRoute):
            conf(RouteTable(), api_socket_path="/run/x.sock; }")
        with pytest.raises(InvalidRoute):
            conf(RouteTable(), trusted_proxies=["everyone"])


async def test_nginx_accepts_a_config_using_every_feature(tmp_path: Path):
    files, _ = self_signed(tmp_path, "web.example.test")
    table = RouteTable([
        AppRoute("web", ["web.example.test", "*.wild.example.test", "ドメイン.テスト"],
                 ["127.0.0.1:9", "[::1]:9"], whitelist=["10.0.0.0/8", "::1"], https_enforced=True,
                 certificates={"web.example.test": files}),
        AppRoute("down", ["down.example.test"], ["127.0.0.1:9"], maintenance=True),
        AppRoute("empty", ["empty.example.test"], []),
        AppRoute("hidden", ["hidden.example.test"], ["127.0.0.1:9"], routable=False),
        AppRoute("long", ["a" * 60 + "." + "b" * 60 + "." + "c" * 60 + ".example.test"], ["127.0.0.1:9"]),
    ])
    prefix = tmp_path / "nginx"
    (prefix / "logs").mkdir(parents=True)
    (prefix / "tmp").mkdir()
    text = conf(table, prefix_dir=prefix, api_socket_path=tmp_path / "api.sock",
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
