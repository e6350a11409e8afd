"""The standard verifier is a real one, and independent: it accepts the W3C eddsa-rdfc-2022 test
vector, which the portal never made, rejects every tampered copy of it, and fetches nothing
outside the origins a test allows. No database and no portal code here."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.verifier.harness import (
    NODE,
    PACKAGES,
    SCRIPT,
    require_verifier,
    run_verifier,
    verify_with_standard_verifier,
)

VECTOR = (
    Path(__file__).resolve().parents[1]
    / "standards" / "w3c-vc-di-eddsa" / "eddsa-rdfc-2022" / "signedDataInt.json"
)  # fmt: skip


def test_the_verifier_imports_only_packages_pinned_in_package_json():
    # No transitive package is imported by accident: each one is declared, exactly pinned.
    declared = json.loads((SCRIPT.parents[2] / "package.json").read_text())["devDependencies"]
    imported = set(re.findall(r"from\s+'([^'.][^']*)';", SCRIPT.read_text())) - {
        "node:crypto", "node:fs", "node:path", "node:url"
    }  # fmt: skip
    assert imported == set(PACKAGES)
    for name in imported:
        assert re.fullmatch(r"\d+\.\d+\.\d+", declared.get(name, "")), (name, declared.get(name))


@pytest.fixture
def vector() -> dict:
    return json.loads(VECTOR.read_text(encoding="utf-8"))


def check_vector(credential: dict, **options):
    # The vector's issuer (https://vc.example/issuers/5678) is not its key's DID, so the VC
    # issuer-controls-the-key rule is left out: the proof and its assertion purpose are checked.
    return verify_with_standard_verifier(credential, issuer_must_control_key=False, **options)


def test_the_w3c_eddsa_rdfc_2022_vector_verifies(vector):
    assert vector["proof"]["verificationMethod"].startswith("did:key:z6Mk")
    result = check_vector(vector)
    assert result.verified, result.explain()
    assert result.errors == []


def test_the_issuer_must_be_the_controller_of_the_key_by_default(vector):
    result = verify_with_standard_verifier(vector)
    assert not result.verified
    assert result.errors == ["Credential issuer must match the verification method controller."]


def test_a_changed_field_breaks_the_signature(vector):
    vector["credentialSubject"]["alumniOf"] = "The School of Counterfeits"
    result = check_vector(vector)
    assert not result.verified
    assert "Invalid signature." in result.errors, result.explain()


def test_a_changed_proof_option_breaks_the_signature(vector):
    vector["proof"]["created"] = "2023-02-24T23:36:39Z"
    result = check_vector(vector)
    assert not result.verified
    assert "Invalid signature." in result.errors, result.explain()


def test_a_changed_proof_value_breaks_the_signature(vector):
    value = vector["proof"]["proofValue"]
    # Another base58 digit in the middle: still a 64-byte signature, just not this one.
    middle = len(value) // 2
    vector["proof"]["proofValue"] = value[:middle] + ("2" if value[middle] != "2" else "3") + value[middle + 1:]
    result = check_vector(vector)
    assert not result.verified
    assert "Invalid signature." in result.errors, result.explain()


def test_a_credential_without_its_proof_is_refused(vector):
    del vector["proof"]
    result = check_vector(vector)
    assert not result.verified
    assert result.errors == ["No matching proofs found in the given document."], result.explain()


def test_a_key_of_another_did_is_refused(vector):
    # A well-formed Ed25519 did:key, but not the one that signed.
    other = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    vector["proof"]["verificationMethod"] = f"{other}#{other.removeprefix('did:key:')}"
    result = check_vector(vector)
    assert not result.verified
    assert "Invalid signature." in result.errors, result.explain()


def test_a_verification_method_on_another_origin_is_not_fetched(vector):
    vector["proof"]["verificationMethod"] = "https://vc.example/issuers/5678#key-1"
    result = check_vector(vector, base_url="http://127.0.0.1:9")
    assert not result.verified
    assert "refused to fetch https://vc.example/issuers/5678#key-1" in result.errors, result.explain()


def test_the_contexts_are_part_of_what_is_signed(vector):
    # The same JSON under another meaning of "alumniOf" (a context the request pins instead of
    # the W3C one) is another document: the canonical form changes and the signature fails.
    examples = "https://www.w3.org/ns/credentials/examples/v2"
    other = {"@context": {"@vocab": "https://vc.example/other-vocabulary#"}}
    result = check_vector(vector, contexts={examples: other})
    assert not result.verified
    assert "Invalid signature." in result.errors, result.explain()


def test_an_unpinned_context_is_not_fetched(vector):
    vector["@context"].append("https://vc.example/contexts/v1")
    result = check_vector(vector)
    assert not result.verified
    assert any("refused to fetch https://vc.example/contexts/v1" in e for e in result.errors), result.explain()


# -- fetching: only the allowed origins, redirects included -------------------------------------


class _Documents(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict, bytes]] = {}
    seen: list[tuple[str, str]] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        self.seen.append((self.path, self.headers.get("Accept", "")))
        status, headers, body = self.routes.get(self.path, (404, {}, b"{}"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def documents() -> Iterator[tuple[str, type[_Documents]]]:
    """A tiny HTTP server on loopback whose answers a test sets in ``routes``."""
    handler = type("Documents", (_Documents,), {"routes": {}, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_an_allowed_origin_is_fetched_as_json_ld(documents, vector):
    base, handler = documents
    handler.routes["/vector.json"] = (200, {"Content-Type": "application/ld+json"}, json.dumps(vector).encode())
    result = run_verifier(
        {"credentialUrl": f"{base}/vector.json", "allowedOrigins": [base], "issuerMustControlKey": False}
    )
    assert result.verified, result.explain()
    assert handler.seen == [("/vector.json", "application/ld+json, application/json")]


def test_another_port_of_the_same_host_is_another_origin(documents, vector):
    base, handler = documents
    handler.routes["/vector.json"] = (200, {}, json.dumps(vector).encode())
    result = run_verifier({"credentialUrl": f"{base}/vector.json", "allowedOrigins": ["http://127.0.0.1:9"]})
    assert not result.verified
    assert result.errors == [f"refused to fetch {base}/vector.json"]
    assert handler.seen == []


def test_a_redirect_to_another_origin_is_not_followed(documents):
    base, handler = documents
    handler.routes["/moved.json"] = (302, {"Location": "https://vc.example/vector.json"}, b"")
    result = run_verifier({"credentialUrl": f"{base}/moved.json", "allowedOrigins": [base]})
    assert not result.verified
    assert result.errors == ["refused to fetch https://vc.example/vector.json"]



# -- the command line ----------------------------------------------------------------------------


def node_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    require_verifier()
    return subprocess.run(
        [NODE, str(SCRIPT), *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_command_line_reads_a_request_file(tmp_path, vector):
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"credential": vector, "issuerMustControlKey": False}))
    completed = node_cli(str(request))
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["verified"] is True


def test_a_request_it_cannot_read_exits_2_and_says_why():
    completed = node_cli(stdin="not json")
    assert completed.returncode == 2
    assert json.loads(completed.stdout)["error"].startswith("the request is not JSON")
    completed = node_cli(stdin=json.dumps({"allowedOrigins": []}))
    assert completed.returncode == 2
    assert json.loads(completed.stdout) == {"error": 'give "credential" (an object) or "credentialUrl"'}
