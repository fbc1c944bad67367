"""The pure rules behind custom domains (issue 18 item 1): public suffixes and who may use a name."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflow.domain.hostnames import PublicSuffixes, covering_wildcards, ownership_error

LIST = Path("/usr/share/publicsuffix/public_suffix_list.dat")


@pytest.fixture(scope="module")
def suffixes() -> PublicSuffixes:
    return PublicSuffixes.parse(LIST.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name, public", [
    ("com", True), ("co.uk", True), ("github.io", True), ("example.com", False), ("x.github.io", False),
    ("a.ck", True), ("www.ck", False), ("city.kawasaki.jp", False), ("x.kawasaki.jp", True),
    ("xn--55qx5d.cn", True), ("unlisted", True),  # the list's default rule: every TLD
])
def test_public_suffixes(suffixes, name, public):
    assert suffixes.is_public_suffix(name) is public


@pytest.mark.parametrize("ace, allowed", [
    ("www.example.com", True), ("*.example.com", True), ("www.mine.localhost", True), ("*.mine.localhost", True),
    ("mine.localhost", False), ("mine", False), ("other.localhost", False), ("other", False),
    ("www.other.localhost", False), ("localhost", False), ("*.localhost", False), ("deis.localhost", False),
    ("*.com", False), ("*.co.uk", False), ("co.uk", False),
])
def test_ownership(suffixes, ace, allowed):
    assert (ownership_error(ace, "mine", "localhost", suffixes) is None) is allowed


def test_a_wildcard_covering_the_platform_domain_is_refused(suffixes):
    assert "covers the platform domain" in ownership_error("*.example.com", "mine", "apps.example.com", suffixes)


def test_without_a_list_wildcards_are_refused():
    assert "no public suffix list" in ownership_error("*.example.com", "mine", "localhost",
                                                      PublicSuffixes(available=False))


def test_covering_wildcards():
    assert covering_wildcards("a.b.example.org") == ["*.b.example.org", "*.example.org", "*.org"]
