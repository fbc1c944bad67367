"""certs:list, certs:add, certs:remove, certs:info, certs:attach, certs:detach."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from cli import argv, output
from cli.commands._common import JSON, read_file, session


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"):
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def short_date(value: str | None) -> str:
    """Go layout `2 Jan 2006`; `unknown` when absent."""
    parsed = parse_time(value)
    return f"{parsed.day} {parsed:%b %Y}" if parsed else "unknown"


def expires_text(value: str | None, now: datetime) -> str:
    parsed = parse_time(value)
    if parsed is None:
        return "unknown"
    text = short_date(value)
    if parsed < now:
        return text + " (expired)"
    text += " (in"
    year, month, day = parsed.year - now.year, parsed.month - now.month, parsed.day - now.day
    if year > 0:
        text += f" {year} year" + ("s" if year > 1 else "")
    elif month > 0:
        text += f" {month} month" + ("s" if month > 1 else "")
    elif day != 0:
        text += f" {day} day" + ("s" if day > 1 else "")
    return text + ")"


def list_(limit: int | None = None, json_: bool = False) -> None:
    """Lists the certificates of the logged in user."""
    _, client = session()
    certs, _, raw = client.paged("/v2/certs/", limit)
    if json_:
        output.raw_json(raw)
        return
    if not certs:
        output.line("No certs")
        return
    now = datetime.now(UTC)
    rows = []
    for c in certs:
        fingerprint = c.get("fingerprint") or ""
        if len(fingerprint) > 4:
            fingerprint = fingerprint[:5] + "[...]" + fingerprint[-5:]
        rows.append(
            [
                c.get("name", ""),
                c.get("common_name") or "",
                ",".join(c.get("san") or []),
                expires_text(c.get("expires"), now),
                fingerprint,
                ",".join(c.get("domains") or []),
                short_date(c.get("updated")),
                short_date(c.get("created")),
            ]
        )
    output.table(
        ["Name", "Common Name", "SubjectAltName", "Expires", "Fingerprint", "Domains", "Updated", "Created"], rows
    )


def add(name: str, cert: str, key: str) -> None:
    """Uploads a certificate and its private key."""
    _, client = session()
    output.write("Adding SSL endpoint... ")  # `cmd/certs.go` reads the files after this line
    with output.spinner():
        certificate, private = read_file(cert), read_file(key)
        client.post("/v2/certs/", {"name": name, "certificate": certificate, "key": private})
    output.line("done")


def remove(name: str) -> None:
    """Removes a certificate (and detaches it from its domains)."""
    _, client = session()
    output.write(f"Removing {name}... ")
    with output.spinner():
        client.delete(f"/v2/certs/{quote(name)}")
    output.line("done")


def info(name: str, json_: bool = False) -> None:
    """Prints information about a certificate."""
    _, client = session()
    response = client.request("GET", f"/v2/certs/{quote(name)}")
    if json_:
        output.raw_json(response.text)
        return
    c = response.json()
    domains = ",".join(c.get("domains") or []) or "No connected domains"
    san = ",".join(c.get("san") or []) or "N/A"
    output.line(f"=== {c.get('name', name)} Certificate")
    output.println("Common Name(s):    ", c.get("common_name") or "")
    output.println("Expires At:        ", short_date(c.get("expires")))
    output.println("Starts At:         ", short_date(c.get("starts")))
    output.println("Fingerprint:       ", c.get("fingerprint", ""))
    output.println("Subject Alt Name:  ", san)
    output.println("Issuer:            ", c.get("issuer", ""))
    output.println("Subject:           ", c.get("subject", ""))
    output.line()
    output.println("Connected Domains: ", domains)
    output.println("Owner:             ", c.get("owner", ""))
    output.println("Created:           ", short_date(c.get("created")))
    output.println("Updated:           ", short_date(c.get("updated")))


def attach(name: str, domain: str) -> None:
    """Attaches a certificate to a domain."""
    _, client = session()
    output.write(f"Attaching certificate {name} to domain {domain}... ")
    with output.spinner():
        client.post(f"/v2/certs/{quote(name)}/domain/", {"domain": domain})
    output.line("done")


def detach(name: str, domain: str) -> None:
    """Detaches a certificate from a domain."""
    _, client = session()
    output.write(f"Detaching certificate {name} from domain {domain}... ")
    with output.spinner():
        client.delete(f"/v2/certs/{quote(name)}/domain/{quote(domain, safe='*')}")
    output.line("done")


EXTRAS = {"certs:list": JSON, "certs:info": JSON}
COMMANDS = {
    "certs:list": lambda a: list_(argv.limit(a["--limit"]), a["--json"]),
    "certs:add": lambda a: add(a["<name>"], a["<cert>"], a["<key>"]),
    "certs:remove": lambda a: remove(a["<name>"]),
    "certs:info": lambda a: info(a["<name>"], a["--json"]),
    "certs:attach": lambda a: attach(a["<name>"], a["<domain>"]),
    "certs:detach": lambda a: detach(a["<name>"], a["<domain>"]),
}
