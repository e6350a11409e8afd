"""``manage.py credential_key``: the rotation's two steps, and its refusals."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from certificates.credentials import builders, keys


def run(*args: str, stdin: str | None = None, monkeypatch=None) -> str:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    call_command("credential_key", *args, stdout=out)
    return out.getvalue()


def test_a_new_key_is_a_seed_the_portal_accepts_and_its_public_key(settings, monkeypatch):
    printed = run("new")
    seed = re.search(r"^CREDENTIAL_SIGNING_KEY=([0-9a-f]{64})$", printed, re.M).group(1)
    public = re.search(r"^public key: (z6Mk\w+)$", printed, re.M).group(1)
    assert keys.public_key_multibase(keys.parse_private_key(seed)) == public
    assert run("new") != printed  # fresh each time
    # The same public key from the seed on standard input, and from the settings once configured.
    assert run("public", "--stdin", stdin=seed + "\n", monkeypatch=monkeypatch).strip() == public
    settings.CREDENTIAL_SIGNING_KEY = seed
    assert run("public").strip() == public == builders.legacy_public_keys()[0]


@pytest.mark.parametrize("bad", ["", "not a key", "ab" * 31, "z" + "1" * 10])
def test_a_malformed_key_is_refused_with_the_reason(bad, monkeypatch):
    with pytest.raises(CommandError, match="key"):
        run("public", "--stdin", stdin=bad, monkeypatch=monkeypatch)


def test_an_action_is_required():
    with pytest.raises(CommandError):
        call_command("credential_key")
