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


# --- who may use a name ------------------------------------------------------------------------------------

class PublicSuffixes:
    """The Public Suffix List's rules (https://publicsuffix.org/list/): names under which anyone may register a
    domain (`com`, `co.uk`, `github.io`). A wildcard over one (`*.co.uk`) would claim every customer's name.

    The list comes from Debian's `publicsuffix` package (/usr/share/publicsuffix/public_suffix_list.dat),
    installed by scripts/start-services.sh and the Dockerfile: the distribution keeps it current with its
    updates, so the platform carries no copy of its own that would age, and no PyPI package that fetches it
    over the network at run time. Without a list every single-label name is a suffix (the list's own default
    rule) and wildcards are refused outright (fail closed).
    """

    def __init__(self, rules: set[str] | None = None, *, available: bool = True):
        self.available = available
        self.rules: set[str] = set()
        self.wildcards: set[str] = set()  # `*.ck` → "ck"
        self.exceptions: set[str] = set()  # `!www.ck` → "www.ck"
        for rule in rules or ():
            if rule.startswith("!"):
                self.exceptions.add(rule[1:])
            elif rule.startswith("*."):
                self.wildcards.add(rule[2:])
            else:
                self.rules.add(rule)

    @classmethod
    def parse(cls, text: str) -> PublicSuffixes:
        rules = set()
        for line in text.splitlines():
            rule = line.strip().split(" ", 1)[0]
            if not rule or rule.startswith("//"):
                continue
            prefix = "!" if rule.startswith("!") else "*." if rule.startswith("*.") else ""
            body = rule[len(prefix):]
            if not body.isascii():
                try:
                    body = ".".join(idna.encode(label, uts46=True).decode("ascii") for label in body.split("."))
                except idna.IDNAError:
                    continue
            rules.add(prefix + body)
        return cls(rules)

    def is_public_suffix(self, name: str) -> bool:
        """Whether `name` (ACE, no wildcard) is itself a public suffix."""
        if name in self.exceptions:
            return False
        if name in self.rules or "." not in name:  # "." not in name: the list's default rule `*`
            return True
        return name.split(".", 1)[1] in self.wildcards


def platform_host(domain: str, platform_domain: str) -> str:
    """The host a domains row routes: a bare name (an app's own row holds its id) is `<name>.<platform domain>`."""
    return domain if "." in domain else f"{domain}.{platform_domain}"


def ownership_error(ace: str, app_id: str, platform_domain: str, suffixes: PublicSuffixes) -> str | None:
    """Why app `app_id` may not route the custom domain `ace` (ACE form, maybe `*.`), or None.

    Inside the platform domain an app owns its own name and the names under it (`www.APP.DOMAIN`, `*.APP.DOMAIN`),
    and nothing else: every other name there is another app's (or the API's), now or when it is created.
    """
    wildcard = ace.startswith("*.")
    name = ace[2:] if wildcard else platform_host(ace, platform_domain)
    own = f"{app_id}.{platform_domain}"
    if wildcard and platform_domain.endswith("." + name):
        return f"The domain {ace} covers the platform domain {platform_domain}, whose names are the apps'"
    if name == platform_domain or name.endswith("." + platform_domain):
        if name == own and not wildcard:
            return f"The domain {name} is already in use by this app"
        if name != own and not name.endswith("." + own):
            return (f"The domain {ace} is inside the platform domain {platform_domain}: this app may only use "
                    f"{own} and names under it")
    if wildcard and not suffixes.available:
        return "Wildcard domains are refused: the platform has no public suffix list installed"
    if suffixes.is_public_suffix(name):
        what = "a wildcard over the public suffix" if wildcard else "the public suffix"
        return f"The domain {ace} is {what} {name}: names under it belong to their own registrants"
    return None


def covering_wildcards(name: str) -> list[str]:
    """The wildcard domains that match `name` in nginx (`*.b.c` and `*.c` for `a.b.c`)."""
    labels = name.split(".")
    return ["*." + ".".join(labels[i:]) for i in range(1, len(labels))]
