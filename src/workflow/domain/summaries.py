"""Release summaries (`C/models/release.py Release.save`), with keys sorted."""

from __future__ import annotations

from typing import Any


def _diff(old: dict[str, Any], new: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    added = sorted(k for k in new if k not in old)
    changed = sorted(k for k in new if k in old and old[k] != new[k])
    deleted = sorted(k for k in old if k not in new)
    return added, changed, deleted


def _phrase(owner: str, old: dict[str, Any], new: dict[str, Any], noun: str = "") -> str | None:
    added, changed, deleted = _diff(old, new)
    parts = []
    for verb, keys in (("added", added), ("changed", changed), ("deleted", deleted)):
        if keys:
            parts.append(f"{verb} {noun}{', '.join(keys)}")
    return f"{owner} {', '.join(parts)}" if parts else None


def config_summary(owner: str, old: dict[str, dict], new: dict[str, dict]) -> list[str]:
    """Phrases for what changed between two configs (`values`, limits, tags, registry, healthcheck)."""
    phrases: list[str] = []
    values = _phrase(owner, old.get("values", {}), new.get("values", {}))
    if values:
        phrases.append(values)
    limits = [name for name in ("memory", "cpu") if old.get(name, {}) != new.get(name, {})]
    if limits:
        phrases.append(f"{owner} changed limits for {', '.join(limits)}")
    tags = _phrase(owner, old.get("tags", {}), new.get("tags", {}), "tag ")
    if tags:
        phrases.append(tags)
    registry = _phrase(owner, old.get("registry", {}), new.get("registry", {}), "registry info ")
    if registry:
        phrases.append(registry)
    health = _phrase(owner, old.get("healthcheck", {}), new.get("healthcheck", {}), "healthcheck info for proc type ")
    if health:
        phrases.append(health)
    return phrases


def build_summary(owner: str, image: str, sha: str, digest: str = "") -> str:
    """`alice deployed team/web:1 (sha256:1a2b3c4d5e6f)`: Deis' summary, with the digest the build pinned."""
    what = f"{owner} deployed {sha[:7]}" if sha else f"{owner} deployed {image}"
    if digest:
        algorithm, _, hexdigits = digest.partition(":")
        what += f" ({algorithm}:{hexdigits[:12]})"
    return what
