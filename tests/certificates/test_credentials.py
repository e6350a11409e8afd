"""Signed credentials: OB 3.0 certificates, CLR 2.0 transcripts, issuer profiles, status lists.

Certificates and transcripts are issued through the real services (approval → issuing task →
stored credential); only the PDF renderer is replaced by a stub, because this file is about the
signed JSON. Schemas are checked twice: by the portal's own pinned copies, and independently by a
validator built here from the copies in ``tests/standards/`` (which the runtime code never reads).
"""

from __future__ import annotations

import base64
import copy
import datetime
import gzip
import hashlib
import io
import json
import socket
import sys
import types
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.core.management import call_command
from django.utils import timezone
from jsonschema.validators import validator_for

from certificates import services
from certificates.credentials import builders, dataintegrity, issuer_keys, validation
from certificates.errors import CredentialInvalid
from certificates.links import verify_url
from certificates.models import STATUS_LIST_SIZE, Certificate, IssuerKey, Transcript
from enrolment.models import Enrolment, EnrolmentStatus
from tests import factories

STANDARDS = Path(__file__).resolve().parents[1] / "standards"  # tests/standards/, see its README
SCHEMA_SOURCES = {
    "ob_v3p0_achievementcredential_schema.json": "1edtech-ob3/ob_v3p0_achievementcredential_schema.json",
    "ob_v3p0_profile_schema.json": "1edtech-ob3/ob_v3p0_profile_schema.json",
    "clr_v2p0_clrcredential_schema.json": "1edtech-clr2/clr_v2p0_clrcredential_schema.json",
}

STRICT_OB3_SCHEMA = "1edtech-ob3/ob_v3p0_achievementcredential_schema.educredentials-copy.json"


def issuer_public_key(slug: str) -> str:
    """The public key ``slug`` signs with now."""
    return issuer_keys.signing_key(slug)[0].public_key_multibase


# -- helpers shared with test_verify.py ----------------------------------------------------------


# The PDF renderer is a stub here (tests/certificates/conftest.py): these tests never read its pages.
pytestmark = pytest.mark.usefixtures("quick_pdf")


def stub_pdf(monkeypatch) -> None:
    try:
        import certificates.rendering as rendering
    except ImportError:
        import certificates

        rendering = types.ModuleType("certificates.rendering")
        monkeypatch.setitem(sys.modules, "certificates.rendering", rendering)
        monkeypatch.setattr(certificates, "rendering", rendering, raising=False)
    monkeypatch.setattr(rendering, "certificate_pdf", lambda certificate: b"%PDF-1.4 test", raising=False)
    monkeypatch.setattr(rendering, "transcript_pdf", lambda transcript, record: b"%PDF-1.4 test", raising=False)


def approved_request(cast, *, learner=None, **type_fields):
    type_fields = {"school": cast.school, "association": cast.association, **type_fields}
    cert_type = factories.CertificateTypeFactory(**type_fields)
    request = factories.completed_request(learner=learner or cast.learner.learner, cert_type=cert_type)
    return services.request_approve(request=request, reviewer=cast.reviewer)


def issue(cast, capture, *, learner=None, **type_fields) -> Certificate:
    """Approve a completed request; the issuing task runs (eagerly) once the approval commits."""
    type_fields = {"school": cast.school, "association": cast.association, **type_fields}
    cert_type = factories.CertificateTypeFactory(**type_fields)
    request = factories.completed_request(learner=learner or cast.learner.learner, cert_type=cert_type)
    with capture(execute=True):
        services.request_approve(request=request, reviewer=cast.reviewer)
    certificate = Certificate.objects.get(request=request)
    assert certificate.is_ready, "the issuing task did not store the credential and the PDF"
    return certificate


def build_transcript(learner, capture) -> Transcript:
    with capture(execute=True):
        transcript = services.transcript_request(learner=learner)
    transcript.refresh_from_db()
    assert transcript.status == Transcript.Status.READY, transcript.error
    return transcript


def allocated(cast, **type_fields) -> Certificate:
    """A certificate row (serial, status index) without the issuing task: for calling the builder."""
    request = approved_request(cast, **type_fields)
    certificate = services.certificate_allocate(request_id=request.pk)
    return Certificate.objects.select_related(
        "request__learner__user", "request__type__school", "request__type__association", "request__type__programme",
        "request__enrolment", "school",
    ).get(pk=certificate.pk)


def standards_validator(relative: str):
    """A validator built from the standards' own schema (tests/standards/), independent of the portal's code."""
    path = STANDARDS / relative
    if not path.is_file():
        pytest.fail(f"credential standards copy missing: {path} (see tests/standards/README.md)")
    schema = json.loads(path.read_text(encoding="utf-8"))
    return validator_for(schema)(schema)


def assert_schema_valid(document: dict, relative: str) -> None:
    problems = [f"{e.json_path}: {e.message}" for e in standards_validator(relative).iter_errors(document)]
    assert not problems, problems[:5]


@contextmanager
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted while building or verifying a credential")

    with monkeypatch.context() as m:
        m.setattr(socket.socket, "connect", refuse)
        m.setattr(socket, "create_connection", refuse)
        yield


# -- pinned schemas ------------------------------------------------------------------------------


def test_schema_copies_are_byte_identical_to_the_standards_and_pinned():
    index = json.loads((validation.SCHEMAS_DIR / "index.json").read_text())
    assert sorted(entry["file"] for entry in index.values()) == sorted(SCHEMA_SOURCES)
    for name, entry in index.items():
        ours = (validation.SCHEMAS_DIR / entry["file"]).read_bytes()
        theirs = STANDARDS / SCHEMA_SOURCES[entry["file"]]
        if not theirs.is_file():
            pytest.fail(f"credential standards copy missing: {theirs}")
        assert ours == theirs.read_bytes(), f"{entry['file']} differs from {theirs}"
        assert hashlib.sha256(ours).hexdigest() == entry["sha256"]
        assert validation.load_schema(name)["$id"] == entry["id"]


def test_a_schema_altered_after_pinning_is_refused(tmp_path, monkeypatch):
    altered = tmp_path / "schemas"
    altered.mkdir()
    for path in validation.SCHEMAS_DIR.iterdir():
        (altered / path.name).write_bytes(path.read_bytes())
    target = altered / "ob_v3p0_profile_schema.json"
    target.write_bytes(target.read_bytes().replace(b'"required"', b'"required" ', 1))
    monkeypatch.setattr(validation, "SCHEMAS_DIR", altered)
    validation._index.cache_clear()
    validation.load_schema.cache_clear()
    try:
        with pytest.raises(validation.SchemaError, match="sha256"):
            validation.load_schema(validation.PROFILE)
    finally:
        monkeypatch.undo()
        validation._index.cache_clear()
        validation.load_schema.cache_clear()


def test_validation_names_the_first_problems():
    with pytest.raises(validation.SchemaValidationError) as caught:
        validation.validate({"type": ["VerifiableCredential"], "validFrom": "2026-01-01"}, validation.ACHIEVEMENT_CREDENTIAL)
    message = str(caught.value)
    assert "'@context' is a required property" in message
    assert caught.value.errors and len(caught.value.errors) <= validation.MAX_REPORTED_ERRORS


def test_date_times_must_carry_a_time_zone(cast):
    document = builders.certificate_credential(allocated(cast))
    validation.validate(document, validation.ACHIEVEMENT_CREDENTIAL)
    broken = copy.deepcopy(document)
    broken["validFrom"] = "2026-11-23T00:00:00"  # no zone: not an OB 3.0 DateTimeZ
    with pytest.raises(validation.SchemaValidationError, match="validFrom"):
        validation.validate(broken, validation.ACHIEVEMENT_CREDENTIAL)


# -- certificates --------------------------------------------------------------------------------


def test_an_issued_certificate_carries_a_valid_signed_open_badge(cast, eager, django_capture_on_commit_callbacks):
    certificate = issue(cast, django_capture_on_commit_callbacks, name_en="Numerical Control Technology: completion",
                        name_zh="数控技术结业证书")
    credential = certificate.credential
    learner = cast.learner.learner

    # The shape OB 3.0 and VC 2.0 ask for.
    assert credential["@context"][:2] == [
        "https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["id"] == verify_url(certificate.verification_code)
    assert credential["issuer"]["id"] == builders.issuer_url("mechanical")
    assert credential["issuer"]["name"] == "School of Mechanical Industry"
    assert credential["validFrom"].startswith(certificate.issued_on.isoformat() + "T00:00:00")
    assert "validUntil" not in credential
    subject = credential["credentialSubject"]
    assert subject["name"] == learner.legal_name
    achievement = subject["achievement"]
    assert achievement["achievementType"] == "CertificateOfCompletion"
    assert achievement["name"] == "Numerical Control Technology: completion"
    assert "数控技术结业证书" in achievement["description"]
    assert achievement["creator"]["id"] == credential["issuer"]["id"]
    assert achievement["criteria"]["narrative"]

    # The learner's email only as a salted hash.
    identity = subject["identifier"][0]
    assert identity["identityType"] == "emailAddress" and identity["hashed"] is True
    expected = hashlib.sha256(("learner@example.org" + identity["salt"]).encode()).hexdigest()
    assert identity["identityHash"] == f"sha256${expected}"
    assert "learner@example.org" not in json.dumps(credential)

    # The association's approval and the completed enrolment are the evidence.
    approval, enrolment = credential["evidence"]
    assert cast.association.name_en in approval["name"] and approval["genre"] == "Approval"
    approved_on = timezone.localdate(certificate.request.history.get(to_status="approved").at).isoformat()
    assert approved_on in approval["description"]
    assert certificate.request.type.programme.code in enrolment["name"]

    # Revocation status points into the school's own revocation list.
    status = credential["credentialStatus"]
    list_url = builders.issuer_status_list_url("mechanical", "revocation", certificate.status_index // STATUS_LIST_SIZE)
    assert certificate.status_issuer == "mechanical"
    assert status == {
        "id": f"{list_url}#{certificate.status_index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(certificate.status_index),
        "statusListCredential": list_url,
    }

    # Schema-valid (both copies), signed, and the proof verifies.
    validation.validate(credential, validation.ACHIEVEMENT_CREDENTIAL)
    assert_schema_valid(credential, SCHEMA_SOURCES["ob_v3p0_achievementcredential_schema.json"])
    assert_schema_valid(credential, STRICT_OB3_SCHEMA)
    [proof] = credential["proof"]  # an array, as the strict schema wants
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["verificationMethod"] == builders.key_url("mechanical", 1)
    assert builders.verify_credential(credential)
    # Stored as plain JSON, byte for byte what was signed.
    assert json.loads(json.dumps(credential)) == credential


def test_changing_one_character_breaks_the_proof(cast, eager, django_capture_on_commit_callbacks):
    credential = issue(cast, django_capture_on_commit_callbacks).credential
    assert builders.verify_credential(credential)

    def tampered(change) -> dict:
        document = copy.deepcopy(credential)
        change(document)
        return document

    def rename(document):
        name = document["credentialSubject"]["name"]
        document["credentialSubject"]["name"] = name[:-1] + ("9" if name[-1] != "9" else "8")

    def reproof(document):
        value = document["proof"][0]["proofValue"]
        document["proof"][0]["proofValue"] = value[:10] + ("A" if value[10] != "A" else "B") + value[11:]

    def reindex(document):
        document["credentialStatus"]["statusListIndex"] = str(int(document["credentialStatus"]["statusListIndex"]) + 1)

    def postpone(document):
        document["validFrom"] = document["validFrom"].replace("T00:00:00", "T00:00:01")

    for change in (rename, reproof, reindex, postpone):
        assert not builders.verify_credential(tampered(change)), change.__name__
        assert not dataintegrity.verify(tampered(change), public_key=issuer_public_key("mechanical")), change.__name__


@pytest.mark.parametrize(
    ("kind", "programme_kind", "expected"),
    [
        ("completion", "associate", "CertificateOfCompletion"),  # not the state diploma
        ("completion", "training", "CertificateOfCompletion"),
        ("vocational", "vocational", "Certification"),
        ("training", "training", "Certificate"),
        ("1+x", "1+x", "Certification"),
    ],
)
def test_achievement_type_follows_the_kind_of_certificate(cast, kind, programme_kind, expected):
    programme = factories.ProgrammeFactory(school=cast.school, kind=programme_kind)
    certificate = allocated(cast, kind=kind, programme=programme)
    credential = builders.certificate_credential(certificate)
    assert credential["credentialSubject"]["achievement"]["achievementType"] == expected
    assert builders.verify_credential(credential)


def test_an_expiring_certificate_says_until_when(cast):
    certificate = allocated(cast, validity_years=3)
    credential = builders.certificate_credential(certificate)
    assert certificate.expires_on.year == certificate.issued_on.year + 3
    assert credential["validUntil"].startswith(certificate.expires_on.isoformat() + "T00:00:00")
    validation.validate(credential, validation.ACHIEVEMENT_CREDENTIAL)


def test_building_and_verifying_never_touch_the_network(cast, monkeypatch):
    certificate = allocated(cast)
    with no_network(monkeypatch):
        credential = builders.certificate_credential(certificate)
        assert builders.verify_credential(credential)


def test_a_credential_that_fails_a_check_is_refused(cast, monkeypatch):
    certificate = allocated(cast)

    no_index = copy.copy(certificate)
    no_index.status_index = None
    with pytest.raises(CredentialInvalid, match="status-list index"):
        builders.certificate_credential(no_index)

    def invalid(document, schema_name):
        raise validation.SchemaValidationError(schema_name, ["$.credentialSubject: broken on purpose"])

    with monkeypatch.context() as m:
        m.setattr(validation, "validate", invalid)
        with pytest.raises(CredentialInvalid, match="broken on purpose"):
            builders.certificate_credential(certificate)

    # Signed with a key the portal does not publish: the self-check refuses it.
    with monkeypatch.context() as m:
        m.setattr(builders, "_trusted_key", lambda *a, **k: "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi")
        with pytest.raises(CredentialInvalid, match="does not verify"):
            builders.certificate_credential(certificate)


def test_a_credential_failure_leaves_the_request_approved_and_marked_failed(cast, eager, monkeypatch):
    from certificates.tasks import issue_certificate

    request = approved_request(cast)

    def broken(certificate, **kwargs):
        raise CredentialInvalid("schema says no")

    monkeypatch.setattr(builders, "certificate_credential", broken)
    with pytest.raises(CredentialInvalid):
        issue_certificate.delay(request.pk).get()
    request.refresh_from_db()
    assert request.status == "approved" and request.issue_failed_at and "schema says no" in request.issue_error
    assert Certificate.objects.get(request=request).credential is None


def test_the_school_is_named_once_as_part_of_the_university(cast):
    cast.school.name_zh = "国家开放大学机械学院"
    cast.school.save(update_fields=["name_zh"])
    credential = builders.certificate_credential(allocated(cast))
    assert "国家开放大学机械学院颁发" in credential["description"]
    assert "国家开放大学国家开放大学" not in json.dumps(credential, ensure_ascii=False)


# -- issuer profiles and keys --------------------------------------------------------------------


def test_the_issuer_profile_holds_the_key_that_verifies_the_credential(cast, eager, django_capture_on_commit_callbacks):
    credential = issue(cast, django_capture_on_commit_callbacks).credential
    profile = builders.issuer_profile("mechanical")
    assert profile["id"] == credential["issuer"]["id"]
    assert profile["type"] == ["Profile"] and profile["name"] == "School of Mechanical Industry"
    method = next(m for m in profile["verificationMethod"] if m["id"] == credential["proof"][0]["verificationMethod"])
    assert method["type"] == "Multikey" and method["controller"] == profile["id"]
    assert method["id"] in profile["assertionMethod"]
    assert dataintegrity.verify(credential, public_key=method["publicKeyMultibase"])
    validation.validate(profile, validation.PROFILE)
    assert_schema_valid(profile, SCHEMA_SOURCES["ob_v3p0_profile_schema.json"])
    # Every term is defined: the profile is JSON-LD that expands offline without losing anything.
    assert "publicKeyMultibase" in dataintegrity.canonicalize(profile)


def test_issuer_profiles_exist_for_schools_the_credit_bank_and_the_university(cast):
    for slug in ("mechanical", "coal", "credit-bank", "ouc"):
        profile = builders.issuer_profile(slug)
        assert profile["id"] == builders.issuer_url(slug)
        validation.validate(profile, validation.PROFILE)
    assert builders.issuer_profile("credit-bank")["name"] == "Credit Bank of The Open University of China"
    with pytest.raises(builders.UnknownIssuer):
        builders.issuer_profile("no-such-school")


def _seed_hex(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()


def test_a_credential_signed_by_an_unknown_key_or_for_another_issuer_does_not_verify(cast):
    credential = builders.certificate_credential(allocated(cast))
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    stranger = Ed25519PrivateKey.generate()
    stranger_key = dataintegrity.public_key_to_multibase(stranger.public_key())
    for method in (f"{credential['issuer']['id']}#{stranger_key}", builders.key_url("mechanical", 1)):
        forged = dataintegrity.sign(
            unsigned, private_key=stranger, verification_method=method, created="2026-01-01T00:00:00Z"
        )
        assert dataintegrity.verify(forged, public_key=stranger_key)  # a valid signature…
        assert not builders.verify_credential(forged), method  # …by a key the portal never published

    # Another issuer's key, valid as it is, does not verify a credential of this one.
    issuer_keys.signing_key("coal")
    other_issuer = copy.deepcopy(credential)
    other_issuer["proof"][0]["verificationMethod"] = builders.key_url("coal", 1)
    assert not builders.verify_credential(other_issuer)
    coal_signed = builders._sign(unsigned, slug="coal", now=timezone.now())
    assert dataintegrity.verify(coal_signed, public_key=issuer_public_key("coal"))
    assert not builders.verify_credential(coal_signed)


def test_credentials_signed_before_a_key_rotation_keep_verifying(cast, client):
    old_credential = builders.certificate_credential(allocated(cast))
    old_key = IssuerKey.objects.get(issuer="mechanical", version=1)

    call_command("credential_key", "rotate", "mechanical", stdout=io.StringIO())
    new_credential = builders.certificate_credential(allocated(cast))
    assert new_credential["proof"][0]["verificationMethod"] == builders.key_url("mechanical", 2)
    assert builders.verify_credential(old_credential) and builders.verify_credential(new_credential)
    # The old key stays published, not revoked: a plain verifier still resolves it.
    old_document = client.get(old_credential["proof"][0]["verificationMethod"]).json()
    assert old_document["publicKeyMultibase"] == old_key.public_key_multibase and "revoked" not in old_document
    profile = builders.issuer_profile("mechanical")
    assert profile["assertionMethod"] == [builders.key_url("mechanical", 1), builders.key_url("mechanical", 2)]
    assert dataintegrity.verify(old_credential, public_key=old_document["publicKeyMultibase"])

    # A compromised key is published as revoked and verifies nothing any more.
    issuer_keys.issuer_key_revoke(issuer="mechanical", version=1)
    assert not builders.verify_credential(old_credential) and builders.verify_credential(new_credential)
    assert "revoked" in client.get(builders.key_url("mechanical", 1)).json()
    assert builders.key_url("mechanical", 1) not in builders.issuer_profile("mechanical")["assertionMethod"]


def test_a_changed_master_key_keeps_old_keys_verifying_and_signs_only_after_rotating(cast, settings):
    old_credential = builders.certificate_credential(allocated(cast))
    settings.CREDENTIAL_SIGNING_KEY = _seed_hex(Ed25519PrivateKey.generate())
    assert builders.verify_credential(old_credential)  # the public key is stored, not re-derived
    with pytest.raises(CredentialInvalid, match="rotate"):
        builders.certificate_credential(allocated(cast))
    call_command("credential_key", "rotate", "--all", stdout=io.StringIO())
    new_credential = builders.certificate_credential(allocated(cast))
    assert new_credential["proof"][0]["verificationMethod"] == builders.key_url("mechanical", 2)
    assert builders.verify_credential(new_credential) and builders.verify_credential(old_credential)


def test_two_schools_sign_with_different_keys_derived_from_one_master(cast):
    mechanical = builders.certificate_credential(allocated(cast))
    other_school = factories.IndustrySchoolFactory()
    coal = builders.certificate_credential(allocated(cast, school=other_school))
    methods = {mechanical["proof"][0]["verificationMethod"], coal["proof"][0]["verificationMethod"]}
    assert methods == {builders.key_url("mechanical", 1), builders.key_url(other_school.slug, 1)}
    assert issuer_public_key("mechanical") != issuer_public_key(other_school.slug)
    assert not dataintegrity.verify(coal, public_key=issuer_public_key("mechanical"))
    master = builders.legacy_public_keys()[0]
    assert master not in {issuer_public_key("mechanical"), issuer_public_key(other_school.slug)}


def test_credentials_signed_with_the_shared_key_before_issue_17_keep_verifying(cast):
    """Stored credentials cannot change: the old shape (one proof object, ``<profile>#<key>``
    signed by the master key) still verifies, and its key stays listed on the profile."""
    certificate = allocated(cast)
    unsigned = {k: v for k, v in builders.certificate_credential(certificate).items() if k != "proof"}
    master, master_public = builders._master_key()
    legacy = dataintegrity.sign(
        unsigned, private_key=master, verification_method=f"{builders.issuer_url('mechanical')}#{master_public}",
        created="2026-01-01T00:00:00Z",
    )
    assert builders.verify_credential(legacy)
    assert f"{builders.issuer_url('mechanical')}#{master_public}" not in builders.issuer_profile("mechanical")["assertionMethod"]
    Certificate.objects.filter(pk=certificate.pk).update(credential=legacy, status_issuer="")
    assert f"{builders.issuer_url('mechanical')}#{master_public}" in builders.issuer_profile("mechanical")["assertionMethod"]
    # The shared key is trusted only in that old shape, never as a new-style proof.
    array = {**legacy, "proof": [legacy["proof"]]}
    assert not builders.verify_credential(array)


# -- transcripts ---------------------------------------------------------------------------------


def test_a_transcript_is_a_valid_signed_clr_with_provenance(world, accredited, cast, eager, django_capture_on_commit_callbacks):
    certificate = issue(cast, django_capture_on_commit_callbacks)
    transcript = build_transcript(world.learner, django_capture_on_commit_callbacks)
    credential = transcript.credential

    assert credential["type"] == ["VerifiableCredential", "ClrCredential"]
    assert credential["id"] == verify_url(transcript.verification_code)
    assert credential["issuer"]["id"] == builders.issuer_url("credit-bank")
    assert credential["credentialStatus"]["statusListIndex"] == str(transcript.status_index)
    validation.validate(credential, validation.CLR_CREDENTIAL)
    assert_schema_valid(credential, SCHEMA_SOURCES["clr_v2p0_clrcredential_schema.json"])
    assert builders.verify_credential(credential)
    assert "learner@example.org" not in json.dumps(credential)

    nested = credential["credentialSubject"]["verifiableCredential"]
    by_anchor = {n["id"].partition("#")[2]: n for n in nested if n["id"].startswith(credential["id"] + "#")}
    assert "account" in by_anchor
    # Every line is an AchievementCredential that passes OB 3.0 and verifies on its own.
    for line in nested:
        validation.validate(line, validation.ACHIEVEMENT_CREDENTIAL)
        assert_schema_valid(line, SCHEMA_SOURCES["ob_v3p0_achievementcredential_schema.json"])
        assert builders.verify_credential(line), line["id"]

    # The accredited outcome names its standard (code and version) and its ledger entries.
    outcome = by_anchor[f"outcome-{accredited.public_id}"]
    entry_seqs = sorted(accredited.entries.values_list("seq", flat=True))
    narrative = outcome["evidence"][0]["narrative"]
    assert f"{world.standard.code}, version {world.standard.version}" in narrative
    assert str(accredited.public_id) in narrative
    assert ", ".join(f"#{s}" for s in entry_seqs) in narrative
    alignment = outcome["credentialSubject"]["achievement"]["alignment"][0]
    assert alignment["targetCode"] == world.standard.code
    assert outcome["credentialSubject"]["creditsEarned"] == float(accredited.accreditation.credits)

    # The programme audit line says how far the learner is.
    audit = by_anchor[f"programme-{world.enrolment.public_id}"]
    assert audit["credentialSubject"]["result"][0]["status"] == "InProgress"

    # The certificate is embedded as the school issued it: it still verifies with the school's key.
    embedded = next(n for n in nested if n["id"] == verify_url(certificate.verification_code))
    assert embedded == certificate.credential and builders.verify_credential(embedded)

    # One changed character anywhere breaks the transcript's proof.
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["verifiableCredential"][1]["credentialSubject"]["creditsEarned"] += 1
    assert not builders.verify_credential(tampered)


def test_a_transcript_of_an_empty_record_still_satisfies_clr(cast, eager, django_capture_on_commit_callbacks):
    transcript = build_transcript(cast.other_learner.learner, django_capture_on_commit_callbacks)
    nested = transcript.credential["credentialSubject"]["verifiableCredential"]
    assert [n["id"].partition("#")[2] for n in nested] == ["account"]
    validation.validate(transcript.credential, validation.CLR_CREDENTIAL)
    assert builders.verify_credential(transcript.credential)


def test_a_conversion_and_a_transfer_carry_their_rule_and_ledger_entries(world, accredited, eager, client,
                                                                          django_capture_on_commit_callbacks):
    from decimal import Decimal

    from creditbank import services as credit_services

    conversion = credit_services.conversion_apply(
        outcome=accredited, enrolment=world.enrolment, course=world.cnc, rule=world.rule, officer=world.officer
    )
    transfer = credit_services.transfer_apply(
        outcome=accredited, enrolment=world.enrolment, group=world.elective, credits=Decimal("4"), officer=world.officer
    )
    transcript = build_transcript(world.learner, django_capture_on_commit_callbacks)
    nested = transcript.credential["credentialSubject"]["verifiableCredential"]

    converted = next(n for n in nested if n["id"].endswith(f"#conversion-{conversion.public_id}"))
    narrative = converted["evidence"][0]["narrative"]
    assert f"{world.rule.code}, version {world.rule.version}" in narrative
    assert str(accredited.public_id) in narrative
    for seq in conversion.entries.values_list("seq", flat=True):
        assert f"#{seq}" in narrative
    assert converted["credentialSubject"]["achievement"]["humanCode"] == world.cnc.code
    assert converted["credentialSubject"]["achievement"]["achievementType"] == "Course"

    moved = next(n for n in nested if n["id"].endswith(f"#transfer-{transfer.public_id}"))
    assert moved["credentialSubject"]["creditsEarned"] == 4.0
    for seq in transfer.entries.values_list("seq", flat=True):
        assert f"#{seq}" in moved["evidence"][0]["narrative"]
    for line in (converted, moved):
        validation.validate(line, validation.ACHIEVEMENT_CREDENTIAL)
        assert builders.verify_credential(line)

    # Every achievement of every line, the course and the requirement group included, resolves.
    from tests.certificates.test_resolvable_ids import assert_achievement_resolves

    for line in nested:
        assert_achievement_resolves(client, line["credentialSubject"]["achievement"])


# -- the revocation status list ------------------------------------------------------------------


def spec_decode(encoded: str) -> bytes:
    """Bitstring Status List v1.0 §3.2 expansion, written out here independently of the portal."""
    assert encoded[0] == "u", "multibase base64url"
    raw = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))


def spec_bit(bitstring: bytes, index: int) -> int:
    return (bitstring[index // 8] >> (7 - index % 8)) & 1  # index 0: left-most bit of the first byte


def test_encoding_puts_index_zero_in_the_most_significant_bit():
    encoded = builders.encode_status_list([0, 9, STATUS_LIST_SIZE - 1])
    bits = spec_decode(encoded)
    assert len(bits) == STATUS_LIST_SIZE // 8
    assert bits[0] == 0x80 and bits[1] == 0x40 and bits[-1] == 0x01
    assert sum(bin(b).count("1") for b in bits) == 3
    assert builders.decode_status_list(encoded) == bits
    assert "=" not in encoded
    with pytest.raises(ValueError):
        builders.encode_status_list([STATUS_LIST_SIZE])


def test_the_status_list_sets_the_bit_of_a_revoked_certificate_only(cast, eager, django_capture_on_commit_callbacks,
                                                                    django_assert_max_num_queries):
    kept = issue(cast, django_capture_on_commit_callbacks)
    revoked = issue(cast, django_capture_on_commit_callbacks, learner=cast.other_learner.learner)
    transcript = build_transcript(cast.learner.learner, django_capture_on_commit_callbacks)
    services.certificate_revoke(certificate=revoked, actor=cast.reviewer, reason="Issued in error")

    status_list = builders.issuer_status_list_credential("mechanical", "revocation", 0)
    with django_assert_max_num_queries(2):  # the signing key and the revoked positions: the signature is cached
        assert builders.issuer_status_list_credential("mechanical", "revocation", 0) == status_list
    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert status_list["id"] == revoked.credential["credentialStatus"]["statusListCredential"]
    assert status_list["issuer"] == revoked.credential["issuer"]["id"]  # the list's issuer is the credential's
    subject = status_list["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    assert builders.verify_credential(status_list)

    bits = spec_decode(subject["encodedList"])
    assert len(bits) * 8 == STATUS_LIST_SIZE
    assert spec_bit(bits, revoked.status_index) == 1
    assert spec_bit(bits, kept.status_index) == 0
    assert sum(bin(b).count("1") for b in bits) == 1
    for certificate, expected in ((revoked, "revoked"), (kept, "valid")):
        entry = certificate.credential["credentialStatus"]
        assert builders.status_of(status_list, entry["statusListIndex"])["status"] == expected
    # The transcript is the credit bank's, in its own lists: nothing of it is on the school's.
    assert transcript.status_issuer == "credit-bank"
    assert transcript.credential["credentialStatus"]["statusListCredential"].startswith(builders.issuer_url("credit-bank"))

    # A second revocation shows in the very next list (no stale cache), signed anew.
    services.certificate_revoke(certificate=kept, actor=cast.reviewer, reason="Fraud")
    again = builders.issuer_status_list_credential("mechanical", "revocation", 0)
    assert spec_bit(spec_decode(again["credentialSubject"]["encodedList"]), kept.status_index) == 1
    assert again["proof"][0]["proofValue"] != status_list["proof"][0]["proofValue"]
    assert builders.issuer_status_list_credential("mechanical", "revocation", 0) == again  # the cached signature


def test_a_tampered_status_list_does_not_verify(cast):
    issuer_keys.signing_key("mechanical")  # a GET never makes an issuer's first key
    status_list = builders.issuer_status_list_credential("mechanical", "suspension", 0)
    tampered = copy.deepcopy(status_list)
    tampered["credentialSubject"]["encodedList"] = builders.encode_status_list([5])
    assert builders.verify_credential(status_list) and not builders.verify_credential(tampered)


def test_dates_in_credentials_are_rfc3339_with_zone(cast):
    credential = builders.certificate_credential(allocated(cast))
    for value in (credential["validFrom"], credential["awardedDate"], credential["proof"][0]["created"]):
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        assert parsed.tzinfo is not None


def test_learner_without_legal_name_gets_no_subject_name(cast):
    learner = factories.LearnerFactory(legal_name="")
    programme = factories.ProgrammeFactory(school=cast.school)
    cert_type = factories.CertificateTypeFactory(school=cast.school, association=cast.association, programme=programme)
    Enrolment.objects.create(
        learner=learner, intake=factories.IntakeFactory(programme=programme), programme=programme,
        status=EnrolmentStatus.COMPLETED,
    )
    request = services.request_open(learner=learner, type=cert_type)
    services.request_approve(request=request, reviewer=cast.reviewer)
    certificate = Certificate.objects.select_related("request__learner__user").get(
        pk=services.certificate_allocate(request_id=request.pk).pk
    )
    credential = builders.certificate_credential(certificate)
    assert "name" not in credential["credentialSubject"]
    assert learner.user.email not in json.dumps(credential)


@pytest.mark.parametrize("slug", ["ouc", "credit-bank"])
def test_no_school_can_take_an_issuer_slug_the_university_uses(db, slug):
    from django.core.exceptions import ValidationError

    school = factories.IndustrySchoolFactory.build(slug=slug)
    with pytest.raises(ValidationError, match="reserved"):
        school.full_clean()
