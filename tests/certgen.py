"""Self-signed PEM certificates for the certificate tests, made with `cryptography`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


@dataclass
class Pem:
    certificate: str
    key: str
    der: bytes
    fingerprint: str  # SHA-256, uppercase hex pairs joined by ':'


def make_cert(common_name: str | None = "example.com", sans: list[str] | None = None, *, days: int = 30,
              expired: bool = False, rsa_key: bool = False, subject_extra: bool = True) -> Pem:
    key = rsa.generate_private_key(65537, 2048) if rsa_key else ec.generate_private_key(ec.SECP256R1())
    attributes = []
    if subject_extra:
        attributes += [x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                       x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "CA"),
                       x509.NameAttribute(NameOID.LOCALITY_NAME, "San Francisco"),
                       x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Deis")]
    if common_name is not None:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    name = x509.Name(attributes)
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    start = now - datetime.timedelta(days=days * 2 if expired else 1)
    end = now - datetime.timedelta(days=1) if expired else now + datetime.timedelta(days=days)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]),
                                        critical=False)
    cert = builder.sign(key, hashes.SHA256())
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return Pem(
        certificate=cert.public_bytes(serialization.Encoding.PEM).decode(),
        key=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode(),
        der=cert.public_bytes(serialization.Encoding.DER),
        fingerprint=":".join(digest[i:i + 2] for i in range(0, len(digest), 2)),
    )
