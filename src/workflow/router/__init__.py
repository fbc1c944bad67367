"""The router: the route table, its validation into live routes, and the nginx serving the public port."""

from workflow.router.base import AppCounters, Router
from workflow.router.certs import nginx_refusal, prune_certificates, remove_certificates, store_certificate
from workflow.router.live import NginxRouter
from workflow.router.supervisor import without_paths
from workflow.router.table import AppRoute, CertFiles, InvalidRoute, RouterError, RouteTable

__all__ = [
    "AppCounters",
    "AppRoute",
    "CertFiles",
    "InvalidRoute",
    "NginxRouter",
    "Router",
    "RouteTable",
    "RouterError",
    "nginx_refusal",
    "prune_certificates",
    "remove_certificates",
    "store_certificate",
    "without_paths",
]
