"""TLS certificates (spec §3.10, §4.9): owned by their uploader, attached to domains, served by the router.

The private key is kept encrypted with the controller's secret key; it is decrypted only to write the
files nginx reads (services/routing.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID
from sqlalchemy.ext.asyncio import AsyncSession

from .. import repositories as repo
from ..domain import validation as v
from ..domain.hostnames import HostnameError, normalize_domain
from ..errors import BadRequest, Conflict, FieldErrors, NotFound, PermissionDenied, first_line
from ..models import Certificate, Domain, User, utcnow
from ..router import nginx_refusal
from .perms import may_use
from .routing import commit_and_sync

NAME_RE = re.compile(r"[a-z0-9-]+")
NAME_TEXT = "Can only contain a-z (lowercase), 0-9 and hyphens"

# OpenSSL's short names, as upstream's `/C=US/ST=CA/.../CN=x` strings show them.
_SHORT_NAMES = {
    NameOID.COUNTRY_NAME: "C",
    NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.LOCALITY_NAME: "L",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.COMMON_NAME: "CN",
    NameOID.EMAIL_ADDRESS: "emailAddress",
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.STREET_ADDRESS: "street",
    NameOID.DOMAIN_COMPONENT: "DC",
    NameOID.USER_ID: "UID",
    NameOID.TITLE: "title",
    NameOID.GIVEN_NAME: "GN",
    NameOID.SURNAME: "SN",
    NameOID.POSTAL_CODE: "postalCode",
    NameOID.BUSINESS_CATEGORY: "businessCategory",
    NameOID.JURISDICTION_COUNTRY_NAME: "jurisdictionC",
}


@dataclass
class ParsedCertificate:
    common_name: str | None
    san: list[str]
    fingerprint: str
    starts: datetime
    expires: datetime
    issuer: str
    subject: str


def _name(name: x509.Name) -> str:
    parts = []
    for attribute in name:
        label = _SHORT_NAMES.get(attribute.oid, attribute.oid.dotted_string)
        value = attribute.value.decode(errors="replace") if isinstance(attribute.value, bytes) else attribute.value
        parts.append(f"{label}={value}")
    return "/" + "/".join(parts)


def parse_certificate(pem: str) -> tuple[x509.Certificate, ParsedCertificate]:
    """The first certificate of a PEM chain and what the API shows of it; ValueError when unreadable."""
    cert = x509.load_pem_x509_certificate(pem.encode())
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = str(names[0].value) if names else None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = list(san.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        dns_names = []
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return cert, ParsedCertificate(
        common_name=common_name,
        san=dns_names,
        fingerprint=":".join(digest[i:i + 2] for i in range(0, len(digest), 2)),
        starts=cert.not_valid_before_utc.astimezone(UTC),
        expires=cert.not_valid_after_utc.astimezone(UTC),
        issuer=_name(cert.issuer),
        subject=_name(cert.subject),
    )


# What nginx loads as `ssl_certificate`: PEM certificate blocks and nothing else (a garbage block after a
# valid certificate made nginx refuse the config, and with it every later router change).
_CHAIN_RE = re.compile(r"\s*(-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*)+")
MAX_CHAIN = 10
# OpenSSL's default security level on Debian 12 (2, 112-bit security): nginx refuses smaller keys.
MIN_BITS = {"RSA": 2048, "DSA": 2048, "EC": 224}


def chain_error(pem: str) -> str | None:
    """Why the certificate text is not a chain nginx loads (apart from what only OpenSSL knows), or None."""
    if not _CHAIN_RE.fullmatch(pem):
        return "the certificate must be PEM CERTIFICATE blocks only (the certificate first, then its chain)"
    try:
        chain = x509.load_pem_x509_certificates(pem.encode())
    except ValueError as exc:
        return first_line(exc)
    if len(chain) > MAX_CHAIN:
        return f"at most {MAX_CHAIN} certificates in a chain"
    for cert in chain:
        problem = key_strength_error(cert.public_key())
        if problem:
            return problem
    return None


def key_strength_error(key: Any) -> str | None:
    kind = ("RSA" if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey) else
            "DSA" if isinstance(key, dsa.DSAPublicKey | dsa.DSAPrivateKey) else
            "EC" if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) else None)
    if kind is not None and key.key_size < MIN_BITS[kind]:
        return (f"{kind} keys must have at least {MIN_BITS[kind]} bits (this one has {key.key_size}); "
                "nginx refuses smaller")
    return None


def _public_bytes(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _load_key(pem: str):
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | dsa.DSAPrivateKey
                      | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        raise ValueError("unsupported key type")
    return key


async def create(session: AsyncSession, ctx, owner: User, data: dict[str, Any]) -> Certificate:
    errors: dict[str, list[str]] = {}
    name = v.required_string(errors, data, "name", max_length=253)
    if name is not None:
        if not NAME_RE.fullmatch(name):
            errors.setdefault("name", []).append(NAME_TEXT)
        elif await repo.certificate_name_taken(session, name):
            errors.setdefault("name", []).append("Certificate with this name already exists.")
    cert_pem = v.required_string(errors, data, "certificate")
    key_pem = v.required_string(errors, data, "key")
    cert = parsed = key = None
    if cert_pem is not None:
        try:
            cert, parsed = parse_certificate(cert_pem)
        except ValueError as exc:
            errors.setdefault("certificate", []).append(f"Could not load certificate: {first_line(exc)}")
        else:
            if (problem := chain_error(cert_pem.strip() + "\n")) is not None:
                cert = None
                errors.setdefault("certificate", []).append(f"Could not load certificate: {problem}")
    if key_pem is not None:
        try:
            key = _load_key(key_pem)
        except (ValueError, TypeError) as exc:
            errors.setdefault("key", []).append(f"Could not load private key: {first_line(exc)}")
        else:
            if (problem := key_strength_error(key)) is not None:
                key = None
                errors.setdefault("key", []).append(f"Could not load private key: {problem}")
    if cert is not None and key is not None and _public_bytes(key.public_key()) != _public_bytes(cert.public_key()):
        # nginx would refuse the pair and with it every later router change: refuse it here instead.
        errors.setdefault("key", []).append("Could not load private key: the key does not match the certificate")
    if not errors and (problem := await _nginx_refusal(ctx, cert_pem.strip() + "\n", key_pem.strip() + "\n")):
        errors.setdefault("certificate", []).append(f"nginx cannot load this certificate and key: {problem}")
    if errors:
        raise FieldErrors(errors)
    row = Certificate(name=name, owner=owner.username, certificate=cert_pem.strip() + "\n",
                      key=ctx.cipher.encrypt(key_pem.strip() + "\n"), common_name=parsed.common_name,
                      fingerprint=parsed.fingerprint, expires=parsed.expires, starts=parsed.starts,
                      issuer=parsed.issuer, subject=parsed.subject, san=parsed.san)
    session.add(row)
    await session.flush()
    return row


async def _nginx_refusal(ctx, certificate: str, key: str) -> str | None:
    """Why the router's nginx would refuse the pair, checked the way it loads them (when a router runs)."""
    router = getattr(ctx.routes, "router", None) if ctx.routes is not None else None
    if router is None:
        return None
    return await nginx_refusal(router.nginx_binary, router.prefix / "cert-checks", certificate, key)


async def get(session: AsyncSession, owner: User, name: str) -> Certificate:
    """Certificates are owner-scoped: someone else's is a 404, for admins too."""
    cert = await repo.certificate_of(session, owner.username, name)
    if cert is None:
        raise NotFound("Certificate")
    return cert


async def domains_of(session: AsyncSession, certs: list[Certificate]) -> dict[int, list[str]]:
    return await repo.certificate_domains(session, [c.id for c in certs])


async def _sync(session: AsyncSession, ctx) -> None:
    await commit_and_sync(session, ctx)


async def remove(session: AsyncSession, ctx, owner: User, name: str) -> None:
    """Detach from every domain, then delete."""
    cert = await get(session, owner, name)
    await repo.detach_certificate(session, cert.id)
    await session.delete(cert)
    await _sync(session, ctx)


async def _domain(session: AsyncSession, user: User, value: str) -> Domain:
    """A domain of any app by either spelling, if the caller may use that app."""
    spellings = [value]
    try:
        spellings.append(normalize_domain(value))
    except HostnameError:
        pass
    domain = await repo.domain_by_name(session, spellings)
    if domain is None:
        raise NotFound("Domain")
    app = await repo.app_by_id(session, domain.app_id)
    if app is None or not await may_use(session, app, user):
        raise PermissionDenied()
    return domain


async def attach(session: AsyncSession, ctx, owner: User, name: str, value: Any) -> None:
    if not value or not isinstance(value, str):
        raise BadRequest("domain is a required field")
    cert = await get(session, owner, name)
    domain = await _domain(session, owner, value)
    if domain.certificate_id is not None:
        raise Conflict("Domain already has a certificate attached to it")
    domain.certificate_id = cert.id
    domain.updated = cert.updated = utcnow()
    await commit_and_sync(session, ctx, domain.app_id)


async def detach(session: AsyncSession, ctx, owner: User, name: str, value: str) -> None:
    cert = await get(session, owner, name)
    domain = await _domain(session, owner, value)
    if domain.certificate_id != cert.id:
        raise NotFound("Domain")
    domain.certificate_id = None
    domain.updated = cert.updated = utcnow()
    await commit_and_sync(session, ctx, domain.app_id)
