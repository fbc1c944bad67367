"""Domain validation (`DomainSerializer.validate_domain`, spec §4.8) — pure."""

from __future__ import annotations

import idna


class HostnameError(ValueError):
    pass


def normalize_domain(value: str) -> str:
    """The ACE (IDNA) form of a custom domain, or HostnameError with Deis' message."""
    domain = value[:-1] if value.endswith(".") else value
    if domain == "*":
        raise HostnameError("Hostname can't only be a wildcard")
    prefix = ""
    if domain.startswith("*."):
        prefix, domain = "*.", domain[2:]
    labels = []
    for label in domain.split("."):
        try:
            labels.append(idna.encode(label.lower(), uts46=True).decode("ascii"))
        except idna.IDNAError as exc:
            raise HostnameError(f"Hostname does not look valid, could not convert to ACE {value}: {exc}") from exc
    if labels[-1].isdigit():
        raise HostnameError("Hostname does not look valid.")
    result = prefix + ".".join(labels)
    if len(result) > 253:
        raise HostnameError("Hostname must be 253 characters or less.")
    return result
