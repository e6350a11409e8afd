"""eddsa-rdfc-2022 Data Integrity: the W3C and 1EdTech test vectors, reproduced exactly, offline.

Inputs come from the copies in ``tests/standards/`` (sources, licences and sha256 in its README).
A missing file fails the test — never a skip — because the vectors must be reproduced.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import socket
from pathlib import Path

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld import jsonld

from certificates.credentials import dataintegrity as di
from certificates.credentials import keys
from certificates.credentials.loader import (
    CONTEXTS_DIR,
    ContextIntegrityError,
    PinnedContextLoader,
    UnknownContextError,
    document_loader,
)

STANDARDS = Path(__file__).resolve().parents[1] / "standards"  # tests/standards/, see its README
W3C = STANDARDS / "w3c-vc-di-eddsa"
W3C_RDFC = W3C / "eddsa-rdfc-2022"
W3C_EMPLOY = W3C_RDFC / "employ"
OB3 = STANDARDS / "1edtech-ob3"
CLR2 = STANDARDS / "1edtech-clr2"

VC2_URL = "https://www.w3.org/ns/credentials/v2"
VC2_SHA256 = "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"
OB3_PUBLIC_KEY = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"


def _path(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"test vector missing: {path}")
    return path


def text(path: Path) -> str:
    return _path(path).read_text(encoding="utf-8")


def load(path: Path) -> dict:
    return json.loads(text(path))


def hexfile(path: Path) -> str:
    return text(path).strip()


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Everything here must work offline: any socket connection is a test failure."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted during credential processing")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def ob3_keys() -> dict[str, str]:
    found = {}
    for line in text(OB3 / "ob3_eddsa-rdfc-2022_test_vector_KEYS.txt").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            found[name.strip()] = value.strip()
    return found


def w3c_private_key() -> Ed25519PrivateKey:
    return keys.parse_private_key(load(W3C / "keyPair.json")["privateKeyMultibase"])


def w3c_public_key() -> str:
    return load(W3C / "keyPair.json")["publicKeyMultibase"]


def unsigned(signed: dict) -> dict:
    return {k: v for k, v in signed.items() if k != "proof"}


# -- pinned contexts ------------------------------------------------------------------------


def test_vc2_context_copy_is_the_w3c_recommendation():
    data = (CONTEXTS_DIR / "credentials-v2.jsonld").read_bytes()
    assert hashlib.sha256(data).hexdigest() == VC2_SHA256
    index = json.loads((CONTEXTS_DIR / "index.json").read_text())
    assert index[VC2_URL] == {"file": "credentials-v2.jsonld", "sha256": VC2_SHA256}


def test_every_pinned_context_matches_its_hash_and_loads():
    loader = PinnedContextLoader()
    assert loader.urls, "the index pins no context"
    for url in loader.urls:
        remote = loader(url, {})
        assert remote["documentUrl"] == url
        assert "@context" in remote["document"]


def test_pinned_contexts_are_byte_copies_of_the_standards():
    sources = {
        "credentials-v2.jsonld": "w3c-vc-data-model/contexts/credentials/v2",
        "credentials-examples-v2.jsonld": "w3c-vc-data-model/contexts/credentials/examples/v2",
        "data-integrity-v1.jsonld": "contexts-1edtech-validator/data-integrity-v1.jsonld",
        "ob-v3p0-3.0.3.json": "contexts-1edtech-validator/ob-v3p0-3.0.3.json",
        "ob-v3p0-extensions.json": "contexts-1edtech-validator/ob-v3p0-extensions.json",
        "clr-v2p0-2.0.1.json": "contexts-1edtech-validator/clr-v2p0-2.0.1.json",
        "bitstring-status-list-v1.jsonld": "w3c-bitstring-status-list/v1.jsonld",
        "multikey-v1.jsonld": "digitalbazaar-multikey-context/multikey-v1.jsonld",
    }
    for copy_name, source in sources.items():
        assert (CONTEXTS_DIR / copy_name).read_bytes() == _path(STANDARDS / source).read_bytes()


def test_unknown_context_is_refused_without_network():
    url = "https://example.org/not-pinned/context.jsonld"
    with pytest.raises(UnknownContextError, match="not pinned"):
        document_loader(url, {})
    doc = {"@context": [VC2_URL, url], "type": ["VerifiableCredential"]}
    with pytest.raises(jsonld.JsonLdError):
        di.canonicalize(doc)


def test_context_whose_bytes_do_not_match_the_pin_is_refused(tmp_path: Path):
    directory = tmp_path / "contexts"
    shutil.copytree(CONTEXTS_DIR, directory)
    target = directory / "credentials-v2.jsonld"
    target.write_bytes(
        target.read_bytes().replace(b"VerifiableCredential", b"VerifiableCredentiaX", 1)
    )
    loader = PinnedContextLoader(directory)
    with pytest.raises(ContextIntegrityError, match="sha256"):
        loader(VC2_URL, {})
    # The untouched files still load.
    loader("https://www.w3.org/ns/credentials/examples/v2", {})


def test_index_may_not_point_outside_the_contexts_folder(tmp_path: Path):
    (tmp_path / "index.json").write_text(
        json.dumps({VC2_URL: {"file": "../credentials-v2.jsonld", "sha256": VC2_SHA256}})
    )
    with pytest.raises(Exception, match="bare file name"):
        PinnedContextLoader(tmp_path)


# -- W3C vc-di-eddsa, eddsa-rdfc-2022 -------------------------------------------------------


def test_w3c_multikey_round_trip():
    pair = load(W3C / "keyPair.json")
    private = w3c_private_key()
    assert keys.public_key_multibase(private) == pair["publicKeyMultibase"]
    assert di.private_key_to_multibase(private) == pair["privateKeyMultibase"]
    public = di.public_key_from_multibase(pair["publicKeyMultibase"])
    assert di.public_key_to_multibase(public) == pair["publicKeyMultibase"]


def test_w3c_canonical_document_byte_for_byte():
    canon = di.transform(load(W3C / "unsigned.json"))
    assert canon.encode() == _path(W3C_RDFC / "canonDocDataInt.txt").read_bytes()
    assert hashlib.sha256(canon.encode()).hexdigest() == hexfile(W3C_RDFC / "docHashDataInt.txt")


def test_w3c_proof_config_and_its_canonical_form():
    document = load(W3C / "unsigned.json")
    expected = load(W3C_RDFC / "proofConfigDataInt.json")
    config = di.proof_config(
        document,
        verification_method=expected["verificationMethod"],
        created=expected["created"],
    )
    assert {**config, "@context": document["@context"]} == expected
    canon = di.canonicalize_proof_config(config, document)
    assert canon.encode() == _path(W3C_RDFC / "proofCanonDataInt.txt").read_bytes()
    assert hashlib.sha256(canon.encode()).hexdigest() == hexfile(W3C_RDFC / "proofHashDataInt.txt")
    # The vector's own config file canonicalises to the same N-Quads.
    assert di.canonicalize(expected) == canon


def test_w3c_combined_hash_signature_and_proof_value():
    document = load(W3C / "unsigned.json")
    expected = load(W3C_RDFC / "proofConfigDataInt.json")
    config = di.proof_config(
        document, verification_method=expected["verificationMethod"], created=expected["created"]
    )
    data = di.hash_data(di.transform(document), di.canonicalize_proof_config(config, document))
    assert data.hex() == hexfile(W3C_RDFC / "combinedHashDataInt.txt")
    signature = w3c_private_key().sign(data)
    assert signature.hex() == hexfile(W3C_RDFC / "sigHexDataInt.txt")
    assert di.multibase_encode(signature) == hexfile(W3C_RDFC / "sigBTC58DataInt.txt")


def test_w3c_sign_reproduces_signed_document_exactly():
    expected = load(W3C_RDFC / "signedDataInt.json")
    signed = di.sign(
        load(W3C / "unsigned.json"),
        private_key=w3c_private_key(),
        verification_method=expected["proof"]["verificationMethod"],
        created=expected["proof"]["created"],
    )
    assert signed == expected
    assert json.dumps(signed["proof"]) == json.dumps(expected["proof"])  # same key order too


def test_w3c_signed_document_verifies():
    signed = load(W3C_RDFC / "signedDataInt.json")
    assert di.verify(signed, public_key=w3c_public_key()) is True
    assert di.verify(signed, public_key=di.public_key_from_multibase(w3c_public_key())) is True


def test_w3c_employ_variant_hash_chain_and_signature():
    """The employ/ vector uses https://w3id.org/citizenship/v4rc1, which the standards copies do not
    provide, so its document cannot be canonicalised here; every other step is checked."""
    canon_doc = _path(W3C_EMPLOY / "canonDocDataInt.txt").read_bytes()
    canon_proof = _path(W3C_EMPLOY / "proofCanonDataInt.txt").read_bytes()
    assert hashlib.sha256(canon_doc).hexdigest() == hexfile(W3C_EMPLOY / "docHashDataInt.txt")
    assert hashlib.sha256(canon_proof).hexdigest() == hexfile(W3C_EMPLOY / "proofHashDataInt.txt")
    data = di.hash_data(canon_doc.decode(), canon_proof.decode())
    assert data.hex() == hexfile(W3C_EMPLOY / "combinedHashDataInt.txt")
    signature = w3c_private_key().sign(data)
    assert signature.hex() == hexfile(W3C_EMPLOY / "sigHexDataInt.txt")
    proof_value = hexfile(W3C_EMPLOY / "sigBTC58DataInt.txt")
    assert di.multibase_encode(signature) == proof_value
    signed = load(W3C_EMPLOY / "signedDataInt.json")
    assert signed["proof"]["proofValue"] == proof_value
    # The proof config's canonical form does not depend on the citizenship context's terms.
    config = {
        k: v for k, v in load(W3C_EMPLOY / "proofConfigDataInt.json").items() if k != "@context"
    }
    assert di.canonicalize({**config, "@context": VC2_URL}).encode() == canon_proof


def test_w3c_employ_signed_document_is_refused_while_its_context_is_not_pinned():
    signed = load(W3C_EMPLOY / "signedDataInt.json")
    assert "https://w3id.org/citizenship/v4rc1" in signed["@context"]
    with pytest.raises(UnknownContextError):
        document_loader("https://w3id.org/citizenship/v4rc1", {})
    assert di.verify(signed, public_key=w3c_public_key()) is False


# -- 1EdTech Open Badges 3.0 ----------------------------------------------------------------


def test_ob3_key_file_is_consistent():
    found = ob3_keys()
    private = keys.parse_private_key(found["Private key (hex, 64-byte seed+pub)"])
    assert keys.public_key_multibase(private) == found["publicKeyMultibase"] == OB3_PUBLIC_KEY
    raw = base58.b58decode(OB3_PUBLIC_KEY[1:])
    assert raw[2:].hex() == found["Public key (hex)"]


def test_ob3_signed_credential_verifies():
    signed = load(OB3 / "ob3_eddsa-rdfc-2022_test_vector_signed.json")
    assert di.verify(signed, public_key=OB3_PUBLIC_KEY) is True


def test_ob3_document_and_proof_canonical_forms():
    signed = load(OB3 / "ob3_eddsa-rdfc-2022_test_vector_signed.json")
    found = ob3_keys()
    canon_doc = di.transform(signed)
    assert canon_doc.encode() == _path(OB3 / "ob3_vector_document-canon.txt").read_bytes()
    assert hashlib.sha256(canon_doc.encode()).hexdigest() == found["Document hash"]
    canon_proof = di.canonicalize_proof_config(signed["proof"], signed)
    assert canon_proof.encode() == _path(OB3 / "ob3_vector_proof-canon.txt").read_bytes()
    assert hashlib.sha256(canon_proof.encode()).hexdigest() == found["Proof hash"]


def test_ob3_resigning_reproduces_the_proof_value():
    signed = load(OB3 / "ob3_eddsa-rdfc-2022_test_vector_signed.json")
    found = ob3_keys()
    private = keys.parse_private_key(found["Private key (hex, 64-byte seed+pub)"])
    resigned = di.sign(
        unsigned(signed),
        private_key=private,
        verification_method=signed["proof"]["verificationMethod"],
        created=signed["proof"]["created"],
        proof_purpose=signed["proof"]["proofPurpose"],
    )
    assert resigned == signed
    assert di.multibase_decode(resigned["proof"]["proofValue"]).hex() == found["Signature hex"]


# -- 1EdTech CLR 2.0 ------------------------------------------------------------------------


def test_clr2_document_canon_is_canonical_nquads():
    """The signed ClrCredential behind clr2_vector_document-canon.txt is not among the standards copies,
    so the document itself cannot be rebuilt; the N-Quads must parse and be a fixed point of the
    same RDFC-1.0 canonicaliser (re-canonicalising reproduces them byte for byte)."""
    nquads = text(CLR2 / "clr2_vector_document-canon.txt")
    dataset = jsonld.JsonLdProcessor.parse_nquads(nquads)
    assert sum(len(graph) for graph in dataset.values()) == len(nquads.splitlines()) == 49
    again = jsonld.normalize(
        nquads,
        {
            "algorithm": "URDNA2015",
            "inputFormat": "application/n-quads",
            "format": "application/n-quads",
        },
    )
    assert again == nquads


def test_clr2_proof_canon_matches_reconstructed_config():
    """Config reconstructed from the proof canon: same issuer key and date as the OB3 vector,
    canonicalised with the CLR 2.0 document's contexts."""
    document = {
        "@context": [VC2_URL, "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"],
    }
    config = di.proof_config(
        document,
        verification_method=f"https://example.edu/issuers/565049#{OB3_PUBLIC_KEY}",
        created="2010-01-01T19:23:24Z",
    )
    canon = di.canonicalize_proof_config(config, document)
    assert canon.encode() == _path(CLR2 / "clr2_vector_proof-canon.txt").read_bytes()


# -- tampering ------------------------------------------------------------------------------


def _string_leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _string_leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _string_leaves(item, (*path, index))
    elif isinstance(value, str):
        yield path


def _tamper(document: dict, path: tuple) -> dict:
    tampered = copy.deepcopy(document)
    node = tampered
    for step in path[:-1]:
        node = node[step]
    original = node[path[-1]]
    replacement = "Y" if original[-1] == "X" else "X"
    node[path[-1]] = original[:-1] + replacement
    return tampered


@pytest.mark.parametrize(
    ("vector", "public_key"),
    [
        (W3C_RDFC / "signedDataInt.json", None),
        (OB3 / "ob3_eddsa-rdfc-2022_test_vector_signed.json", OB3_PUBLIC_KEY),
    ],
    ids=["w3c", "ob3"],
)
def test_changing_one_character_of_any_string_breaks_verification(vector, public_key):
    signed = load(vector)
    public_key = public_key or w3c_public_key()
    assert di.verify(signed, public_key=public_key) is True
    leaves = list(_string_leaves(signed))
    assert len(leaves) > 10
    still_valid = [
        path for path in leaves if di.verify(_tamper(signed, path), public_key=public_key)
    ]
    assert still_valid == []


def test_wrong_public_key_fails():
    signed = load(W3C_RDFC / "signedDataInt.json")
    assert di.verify(signed, public_key=OB3_PUBLIC_KEY) is False
    other = Ed25519PrivateKey.generate().public_key()
    assert di.verify(signed, public_key=other) is False


@pytest.mark.parametrize(
    "proof_value",
    [
        "z0OIl0OIl",  # 0, O, I, l are not in the base58btc alphabet
        "2YwC8z3ap7yx1nZYCg4L3j3ApHsF8kgPdSb5xoS1VR7vPG3F561B52hYnQF9iseabecm3ijx4K1FBTQsCZahKZme",
        "z",
        "",
        "zzzz",  # valid base58 but not 64 bytes
        None,
        123,
        "u" + "A" * 86,  # base64url multibase, not base58btc
    ],
)
def test_malformed_proof_value_fails(proof_value):
    signed = load(W3C_RDFC / "signedDataInt.json")
    signed["proof"]["proofValue"] = proof_value
    assert di.verify(signed, public_key=w3c_public_key()) is False


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("proof"),
        lambda d: d.__setitem__("proof", [d["proof"], d["proof"]]),  # which one? name it to check it
        lambda d: d["proof"].__setitem__("cryptosuite", "ecdsa-rdfc-2019"),
        lambda d: d["proof"].__setitem__("type", "Ed25519Signature2020"),
        lambda d: d["proof"].__setitem__("created", "yesterday"),
        lambda d: d["proof"].pop("verificationMethod"),
        lambda d: d.__setitem__("@context", ["https://example.org/unpinned"]),
        lambda d: d.__setitem__("credentialSubject", {"id": "did:example:other"}),
    ],
)
def test_malformed_or_altered_proof_fails_without_raising(mutate):
    signed = load(W3C_RDFC / "signedDataInt.json")
    mutate(signed)
    assert di.verify(signed, public_key=w3c_public_key()) is False


def test_verify_never_raises_on_garbage():
    for garbage in (None, [], "text", {"proof": "x"}, {"proof": {}}):
        assert di.verify(garbage, public_key=w3c_public_key()) is False
    assert di.verify(load(W3C_RDFC / "signedDataInt.json"), public_key="not-a-key") is False


def test_sign_then_verify_round_trip_with_a_fresh_key():
    private = Ed25519PrivateKey.generate()
    public = keys.public_key_multibase(private)
    signed = di.sign(
        unsigned(load(OB3 / "ob3_eddsa-rdfc-2022_test_vector_signed.json")),
        private_key=private,
        verification_method=f"https://portal.example/issuers/1#{public}",
        created="2025-06-01T08:00:00Z",
    )
    assert di.verify(signed, public_key=public) is True
    assert di.verify(signed, public_key=OB3_PUBLIC_KEY) is False


def test_sign_refuses_bad_input():
    document = load(W3C / "unsigned.json")
    with pytest.raises(di.DataIntegrityError):
        di.sign(document, private_key=w3c_private_key(), verification_method="x", created="now")
    with pytest.raises(di.DataIntegrityError):
        di.sign(
            load(W3C_RDFC / "signedDataInt.json"),
            private_key=w3c_private_key(),
            verification_method="x",
            created="2023-02-24T23:36:38Z",
        )


# -- signing key configuration --------------------------------------------------------------


def test_signing_key_from_hex_seed_and_multibase_agree():
    found = ob3_keys()
    seed_plus_pub = found["Private key (hex, 64-byte seed+pub)"]
    from_seed = keys.parse_private_key(seed_plus_pub[:64])
    from_both = keys.parse_private_key(seed_plus_pub)
    from_multibase = keys.parse_private_key(di.private_key_to_multibase(from_seed))
    assert {keys.public_key_multibase(k) for k in (from_seed, from_both, from_multibase)} == {
        OB3_PUBLIC_KEY
    }


@pytest.mark.parametrize(
    "value",
    ["", "   ", "abc", "g" * 64, "ab" * 48, "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"],
)
def test_malformed_signing_key_is_refused(value):
    with pytest.raises(keys.SigningKeyError):
        keys.parse_private_key(value)


def test_seed_with_mismatched_public_half_is_refused():
    seed_plus_pub = ob3_keys()["Private key (hex, 64-byte seed+pub)"]
    with pytest.raises(keys.SigningKeyError, match="does not match"):
        keys.parse_private_key(seed_plus_pub[:64] + "00" * 32)


def test_signing_key_from_environment(monkeypatch: pytest.MonkeyPatch, settings):
    if hasattr(settings, keys.SETTING_NAME):
        delattr(settings, keys.SETTING_NAME)
    monkeypatch.setenv(keys.SETTING_NAME, load(W3C / "keyPair.json")["privateKeyMultibase"])
    assert keys.public_key_multibase(keys.load_signing_key()) == w3c_public_key()
    settings.CREDENTIAL_SIGNING_KEY = ob3_keys()["Private key (hex, 64-byte seed+pub)"][:64]
    assert keys.public_key_multibase(keys.load_signing_key()) == OB3_PUBLIC_KEY
    del settings.CREDENTIAL_SIGNING_KEY
    monkeypatch.delenv(keys.SETTING_NAME)
    with pytest.raises(keys.SigningKeyError, match="no credential signing key"):
        keys.load_signing_key()


def test_undefined_property_is_not_silently_dropped():
    """Safe mode: a term no context defines would vanish from the N-Quads (and the signature)."""
    signed = load(OB3 / "ob3_eddsa-rdfc-2022_test_vector_signed.json")
    added = {**signed, "undefinedTerm": "not covered by the signature"}
    assert di.verify(added, public_key=OB3_PUBLIC_KEY) is False
    with pytest.raises(di.DataIntegrityError, match="undefinedTerm"):
        di.sign(
            unsigned(added),
            private_key=keys.parse_private_key(ob3_keys()["Private key (hex, 64-byte seed+pub)"]),
            verification_method=signed["proof"]["verificationMethod"],
            created=signed["proof"]["created"],
        )
    nested = copy.deepcopy(signed)
    nested["credentialSubject"]["achievement"]["criteria"]["extra"] = "x"
    assert di.verify(nested, public_key=OB3_PUBLIC_KEY) is False
