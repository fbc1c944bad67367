"""The router: the route table, its nginx config, and the nginx process serving the public port."""

from workflow.router.certs import nginx_refusal, prune_certificates, store_certificate
from workflow.router.process import NginxRouter
from workflow.router.table import AppRoute, CertFiles, InvalidRoute, RouterError, RouteTable

__all__ = [
    "AppRoute",
    "CertFiles",
    "InvalidRoute",
    "NginxRouter",
    "RouteTable",
    "RouterError",
    "nginx_refusal",
    "prune_certificates",
    "store_certificate",
]
