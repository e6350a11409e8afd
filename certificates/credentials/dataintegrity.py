"""Data Integrity proofs, cryptosuite ``eddsa-rdfc-2022`` (W3C vc-di-eddsa), fully offline.

Algorithm (vc-di-eddsa §3.3 "eddsa-rdfc-2022"):

* transformation: the document without ``proof`` is canonicalised with RDFC-1.0 (URDNA2015) to
  N-Quads;
* proof configuration: the proof options without ``proofValue``, given the document's
  ``@context``, canonicalised the same way;
* hashing: ``sha256(proofConfigCanon) || sha256(transformedDocument)`` (64 bytes);
* serialisation: an Ed25519 signature over those 64 bytes, encoded as multibase base58btc
  (``z…``) in ``proofValue``.

JSON-LD contexts come only from :mod:`certificates.credentials.loader` (pinned, hash-checked).
"""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Any

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pyld import jsonld

from .loader import document_loader

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
ED25519_PUB_MULTICODEC = b"\xed\x01"
ED25519_PRIV_MULTICODEC = b"\x80\x26"

# XML Schema dateTime as Data Integrity requires for ``created`` (timezone optional).
_DATETIME = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


class DataIntegrityError(ValueError):
    """A document or proof cannot be processed under eddsa-rdfc-2022."""


# -- multibase / multikey -------------------------------------------------------------------


def multibase_decode(value: str) -> bytes:
    """Decode a multibase base58btc (``z…``) string."""
    if not isinstance(value, str) or not value.startswith("z") or len(value) < 2:
        raise DataIntegrityError("expected a multibase base58btc value starting with 'z'")
    try:
        return base58.b58decode(value[1:].encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise DataIntegrityError(f"not base58btc: {exc}") from exc


def multibase_encode(data: bytes) -> str:
    return "z" + base58.b58encode(data).decode("ascii")


def public_key_to_multibase(public_key: Ed25519PublicKey) -> str:
    """Ed25519 public key → Multikey ``publicKeyMultibase`` (``z6Mk…``, multicodec 0xed01)."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return multibase_encode(ED25519_PUB_MULTICODEC + raw)


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    """Multikey ``publicKeyMultibase`` (``z6Mk…``) → Ed25519 public key."""
    data = multibase_decode(value)
    if len(data) != 34 or data[:2] != ED25519_PUB_MULTICODEC:
        raise DataIntegrityError("not an Ed25519 Multikey (multicodec 0xed01 + 32 bytes)")
    return Ed25519PublicKey.from_public_bytes(data[2:])


def private_key_to_multibase(private_key: Ed25519PrivateKey) -> str:
    """Ed25519 private key → ``secretKeyMultibase`` (multicodec 0x1300, varint 0x80 0x26)."""
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    seed = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return multibase_encode(ED25519_PRIV_MULTICODEC + seed)


def private_key_from_multibase(value: str) -> Ed25519PrivateKey:
    data = multibase_decode(value)
    if len(data) != 34 or data[:2] != ED25519_PRIV_MULTICODEC:
        raise DataIntegrityError("not an Ed25519 secret Multikey (multicodec 0x1300 + 32 bytes)")
    return Ed25519PrivateKey.from_private_bytes(data[2:])


def _as_public_key(key: Ed25519PublicKey | str | bytes) -> Ed25519PublicKey:
    if isinstance(key, Ed25519PublicKey):
        return key
    if isinstance(key, str):
        return public_key_from_multibase(key)
    if isinstance(key, bytes | bytearray) and len(key) == 32:
        return Ed25519PublicKey.from_public_bytes(bytes(key))
    raise DataIntegrityError("public key must be an Ed25519PublicKey, a z6Mk… string or 32 bytes")


# -- the algorithm --------------------------------------------------------------------------


def canonicalize(document: dict, *, safe: bool = True) -> str:
    """RDFC-1.0 (URDNA2015) canonical N-Quads of a JSON-LD document, contexts served offline.

    ``safe`` (the default) is JSON-LD "safe mode" as Data Integrity recommends: a property that
    no context defines would be silently dropped from the N-Quads — and so from what the
    signature covers — so it is an error instead.
    """
    dropped: list[str | None] = []
    try:
        processor = jsonld.JsonLdProcessor(on_property_dropped=dropped.append)
    except TypeError as exc:  # pyld < 3 has no hook to detect dropped properties
        if safe:
            raise DataIntegrityError("safe-mode canonicalisation needs pyld >= 3") from exc
        processor = jsonld.JsonLdProcessor()
    nquads = processor.normalize(
        copy.deepcopy(document),
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": document_loader,
        },
    )
    if safe and dropped:
        raise DataIntegrityError(
            "properties not defined by any @context would be dropped (not signed): "
            + ", ".join(sorted({str(term) for term in dropped}))
        )
    return nquads


def proof_config(
    document: dict,
    *,
    verification_method: str,
    created: str,
    proof_purpose: str = "assertionMethod",
) -> dict:
    """The proof options (no ``proofValue``), ordered as in the spec's examples."""
    if not isinstance(created, str) or not _DATETIME.match(created):
        raise DataIntegrityError(f"created must be an XML Schema dateTime, got {created!r}")
    if not isinstance(verification_method, str) or not verification_method:
        raise DataIntegrityError("verificationMethod must be a non-empty string")
    if not isinstance(proof_purpose, str) or not proof_purpose:
        raise DataIntegrityError("proofPurpose must be a non-empty string")
    return {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }


def canonicalize_proof_config(config: dict, document: dict) -> str:
    """Canonical N-Quads of the proof configuration, given the document's ``@context``."""
    if "@context" not in document:
        raise DataIntegrityError("the document has no @context")
    with_context = dict(config)
    with_context.pop("proofValue", None)
    with_context["@context"] = copy.deepcopy(document["@context"])
    return canonicalize(with_context)


def transform(document: dict) -> str:
    """The transformed (canonical) document: its N-Quads without ``proof``."""
    if not isinstance(document, dict):
        raise DataIntegrityError("a credential must be a JSON object")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    return canonicalize(unsecured)


def hash_data(transformed_document: str, canonical_proof_config: str) -> bytes:
    """``sha256(proofConfigCanon) || sha256(transformedDocument)`` — 64 bytes."""
    proof_hash = hashlib.sha256(canonical_proof_config.encode("utf-8")).digest()
    doc_hash = hashlib.sha256(transformed_document.encode("utf-8")).digest()
    return proof_hash + doc_hash


def sign(
    document: dict,
    *,
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: str,
    proof_purpose: str = "assertionMethod",
) -> dict:
    """Return a copy of ``document`` with an eddsa-rdfc-2022 ``DataIntegrityProof``."""
    if not isinstance(private_key, Ed25519PrivateKey):
        raise DataIntegrityError("private_key must be an Ed25519PrivateKey")
    if not isinstance(document, dict):
        raise DataIntegrityError("a credential must be a JSON object")
    if "proof" in document:
        raise DataIntegrityError("the document already carries a proof")
    config = proof_config(
        document,
        verification_method=verification_method,
        created=created,
        proof_purpose=proof_purpose,
    )
    data = hash_data(transform(document), canonicalize_proof_config(config, document))
    signed = copy.deepcopy(document)
    signed["proof"] = {**config, "proofValue": multibase_encode(private_key.sign(data))}
    return signed


def proofs_of(signed: Any) -> list[dict]:
    """The proofs of ``signed``: its ``proof`` object, or the objects of its ``proof`` array."""
    proof = signed.get("proof") if isinstance(signed, dict) else None
    if isinstance(proof, dict):
        return [proof]
    if isinstance(proof, list):
        return [p for p in proof if isinstance(p, dict)]
    return []


def verify(signed: dict, *, public_key: Ed25519PublicKey | str | bytes, proof: dict | None = None) -> bool:
    """True only if ``signed`` carries a valid eddsa-rdfc-2022 proof by ``public_key``.

    ``proof`` is the one of ``signed``'s proofs to check (``proof`` may be an object or an array,
    as VC 2.0 allows); by default its only proof. Any problem — tampered content, wrong key,
    malformed or unsupported proof, an unpinned context — yields False; this function never raises.
    """
    try:
        if proof is None:
            found = proofs_of(signed)
            if len(found) != 1:
                return False
            proof = found[0]
        elif not any(p is proof for p in proofs_of(signed)):
            return False
        return _verify(signed, _as_public_key(public_key), proof)
    except Exception:  # noqa: BLE001 - verification must answer False, never raise
        return False


def _verify(signed: Any, public_key: Ed25519PublicKey, proof: Any) -> bool:
    if not isinstance(signed, dict):
        return False
    if not isinstance(proof, dict):
        return False
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return False
    if "@context" in proof:
        # Data Integrity: the proof's contexts must be a prefix of the document's.
        proof_ctx = (
            proof["@context"] if isinstance(proof["@context"], list) else [proof["@context"]]
        )
        doc_ctx = signed.get("@context")
        doc_ctx = doc_ctx if isinstance(doc_ctx, list) else [doc_ctx]
        if doc_ctx[: len(proof_ctx)] != proof_ctx:
            return False
    created = proof.get("created")
    if created is not None and (not isinstance(created, str) or not _DATETIME.match(created)):
        return False
    for field in ("verificationMethod", "proofPurpose"):
        if not isinstance(proof.get(field), str) or not proof[field]:
            return False
    signature = multibase_decode(proof.get("proofValue"))
    if len(signature) != 64:
        return False
    config = {k: v for k, v in proof.items() if k not in ("proofValue", "@context")}
    data = hash_data(transform(signed), canonicalize_proof_config(config, signed))
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
