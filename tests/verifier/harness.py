"""The standard verifier, from pytest: ``node tests/verifier/verify.mjs`` in a subprocess.

``verify.mjs`` is Digital Bazaar's ``@digitalbazaar/vc`` (Data Integrity with eddsa-rdfc-2022,
the Bitstring Status List check) installed by ``npm ci`` from package-lock.json: an
implementation independent of the portal's own signing and verifying code. Its document loader
serves the pinned JSON-LD contexts, resolves did:key locally, and fetches nothing but the origins
a test allows (the live test server).

Without Node.js or those packages, a run promised the full stack (``SERVICES_PROMISED``, as
``.ci/run`` does) fails; a bare ``make test`` skips and says why, like the browser journeys.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SERVICES_PROMISED

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "verify.mjs"
NODE = os.environ.get("VERIFIER_NODE", "node")
# The packages verify.mjs imports (each a devDependency of package.json, pinned by the lock); one
# missing means `npm ci` has not run, or ran before package-lock.json changed.
PACKAGES = (
    "@digitalbazaar/vc",
    "@digitalbazaar/data-integrity",
    "@digitalbazaar/eddsa-rdfc-2022-cryptosuite",
    "@digitalbazaar/ed25519-multikey",
    "@digitalbazaar/vc-bitstring-status-list",
    "jsonld-signatures",
    "@digitalbazaar/credentials-context",
    "@digitalbazaar/security-context",
    "@digitalbazaar/multikey-context",
    "did-context",
    "@digitalbazaar/vc-bitstring-status-list-context",
)
TIMEOUT_SECONDS = 60


class VerifierError(RuntimeError):
    """The verifier itself could not run or answer (not a credential that failed to verify)."""


@dataclass
class Result:
    """What verify.mjs printed: the verdict, the library's reasons, the status-list bits."""

    verified: bool
    errors: list[str]
    status_results: list[dict[str, Any]]
    credentials: list[dict[str, Any]] = field(default_factory=list)
    status_list: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def status_set(self, purpose: str = "revocation") -> bool:
        """True if some checked status entry of ``purpose`` has its bit set (revoked, suspended)."""
        return any(r.get("statusPurpose") == purpose and r.get("status") is True for r in self.status_results)

    def explain(self) -> str:
        return json.dumps(self.raw, indent=2, ensure_ascii=False)


def missing_tools() -> list[str]:
    missing = []
    if shutil.which(NODE) is None:
        missing.append("Node.js (node) on the PATH (apt-get install nodejs npm)")
    absent = [p for p in PACKAGES if not (REPO_ROOT / "node_modules" / p / "package.json").is_file()]
    if absent:
        missing.append(f"{', '.join(absent)} in node_modules (npm ci)")
    return missing


def require_verifier() -> None:
    """Fail (a run promised the full stack) or skip (a bare run) when the verifier cannot run."""
    missing = missing_tools()
    if missing:
        message = "the standard verifier needs " + "; ".join(missing) + " (.ci/run installs them)"
        if SERVICES_PROMISED:
            pytest.fail(message)
        pytest.skip(message)


def run_verifier(request: dict[str, Any], *, timeout: float = TIMEOUT_SECONDS) -> Result:
    """Send ``request`` (see verify.mjs) to the verifier and read its answer."""
    require_verifier()
    try:
        completed = subprocess.run(
            [NODE, str(SCRIPT)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO_ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise VerifierError(f"the standard verifier did not answer within {timeout} s") from exc
    try:
        answer = json.loads(completed.stdout)
    except ValueError as exc:
        raise VerifierError(
            f"the standard verifier exited {completed.returncode} without a JSON answer:\n"
            f"stdout: {completed.stdout[-2000:]}\nstderr: {completed.stderr[-4000:]}"
        ) from exc
    if completed.returncode != 0 or "error" in answer:
        raise VerifierError(
            f"the standard verifier could not run the request (exit {completed.returncode}): "
            f"{answer.get('error')}\nstderr: {completed.stderr[-4000:]}"
        )
    return Result(
        verified=answer["verified"],
        errors=answer["errors"],
        status_results=answer["statusResults"],
        credentials=answer.get("credentials", []),
        status_list=answer.get("statusList"),
        raw=answer,
    )


def verify_with_standard_verifier(
    credential: dict[str, Any],
    *,
    base_url: str | None = None,
    allowed_origins: list[str] | None = None,
    nested: bool = False,
    status_list: bool = False,
    issuer_must_control_key: bool = True,
    contexts: dict[str, Any] | str | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> Result:
    """Verify ``credential`` with the standard verifier, letting it fetch from ``base_url`` only.

    ``nested``: also verify each credential in ``credentialSubject.verifiableCredential`` (a CLR
    transcript's). ``status_list``: the credential must be a BitstringStatusListCredential.
    ``issuer_must_control_key=False`` drops the issuer-is-the-key's-controller check, for signing
    test vectors whose issuer is not their key's DID. ``contexts``: JSON-LD contexts (URL to
    document, or a folder with an index.json like the portal's) served before the pinned ones.
    """
    origins = list(allowed_origins or [])
    if base_url:
        origins.append(base_url)
    return run_verifier(
        {
            "credential": credential,
            "allowedOrigins": origins,
            "mode": "statusList" if status_list else "credential",
            "nested": nested,
            "issuerMustControlKey": issuer_must_control_key,
            **({"contexts": contexts} if contexts is not None else {}),
        },
        timeout=timeout,
    )


def verify_url_with_standard_verifier(url: str, *, base_url: str, status_list: bool = False) -> Result:
    """Fetch ``url`` through the verifier's own loader (origin ``base_url``), then verify it."""
    return run_verifier(
        {
            "credentialUrl": url,
            "allowedOrigins": [base_url],
            "mode": "statusList" if status_list else "credential",
        }
    )
