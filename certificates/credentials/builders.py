"""The signed credentials the portal issues, and what verifiers need to check them.

* ``certificate_credential``: an Open Badges 3.0 ``OpenBadgeCredential`` for an issued certificate,
  issued by the industry school, with the partner association's approval as evidence.
* ``transcript_credential``: a CLR 2.0 ``ClrCredential`` issued by the OUC credit bank, one
  ``AchievementCredential`` a line of the learner's record, each line carrying its provenance.
* ``issuer_profile``: the OB 3.0 ``Profile`` of an issuer, listing its public keys under
  ``verificationMethod`` and ``assertionMethod``; ``key_document``: one key, the ``Multikey`` a
  proof's ``verificationMethod`` URL answers (each issuer has its own keys: ``issuer_keys``).
* ``status_list_credential``: the signed W3C ``BitstringStatusListCredential`` a credential's
  ``credentialStatus`` points to; a revoked certificate's bit is set.

Every credential is signed (Data Integrity, eddsa-rdfc-2022), checked against its pinned 1EdTech
JSON Schema and verified again before it is returned: a credential the portal could not verify
itself is never stored. Nothing here touches the network.

Language: ``name`` and ``description`` are plain strings. The OB 3.0 schemas accept language maps
(``{"en": …, "zh": …}``), but the OB 3.0 JSON-LD context does not declare them, so under JSON-LD
they would be dropped from what the signature covers (safe-mode canonicalisation refuses them).
Names are therefore in English, and every ``description`` gives the English and the Chinese text.
The Chinese wording is written here, not translated at run time: a signed document must not
depend on the language of whoever happens to trigger the build.
"""

from __future__ import annotations

import base64
import copy
import datetime
import gzip
import hashlib
import re
import secrets
import threading
import zoneinfo
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from certificates.errors import CredentialInvalid
from certificates.links import absolute, verify_url
from certificates.models import (
    STATUS_LIST_SIZE,
    Certificate,
    CertificateKind,
    RequestStatus,
    StatusListCounter,
    Transcript,
)

from . import dataintegrity, issuer_keys, keys, validation

__all__ = [
    "CredentialInvalid",
    "UnknownIssuer",
    "certificate_credential",
    "transcript_credential",
    "issuer_profile",
    "verify_credential",
    "status_list_credential",
    "status_of",
    "decode_status_list",
    "legacy_public_keys",
    "key_document",
]

VC2 = "https://www.w3.org/ns/credentials/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB3_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
CLR2 = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
SCHEMA_VALIDATOR_TYPE = "1EdTechJsonSchemaValidator2019"

CREDIT_BANK = "credit-bank"  # issuer of transcripts
OUC = "ouc"  # the university itself: issuer of the status lists, parent of every other issuer
RESERVED_ISSUERS = {
    OUC: ("The Open University of China", "国家开放大学"),
    CREDIT_BANK: ("Credit Bank of The Open University of China", "国家开放大学学分银行"),
}

STATUS_PURPOSE = "revocation"  # the purpose of the shared list of before issue 17
REVOCATION, SUSPENSION = "revocation", "suspension"
STATUS_PURPOSES = (REVOCATION, SUSPENSION)

# OB 3.0 AchievementType (an extensible vocabulary) for each kind of certificate.
ACHIEVEMENT_TYPES = {
    # Not "Diploma", even for a degree programme: the school's completion certificate is not the
    # state graduation diploma, and the credential must not claim more than the paper does.
    CertificateKind.COMPLETION: "CertificateOfCompletion",
    CertificateKind.VOCATIONAL: "Certification",
    CertificateKind.TRAINING: "Certificate",
    CertificateKind.ONE_PLUS_X: "Certification",
}
KIND_WORDS = {  # (English, Chinese): fixed wording, see the module docstring
    CertificateKind.COMPLETION: ("programme completion certificate", "结业证书"),
    CertificateKind.VOCATIONAL: ("vocational qualification certificate", "职业资格证书"),
    CertificateKind.TRAINING: ("non-degree training certificate", "非学历培训证书"),
    CertificateKind.ONE_PLUS_X: ('"1+X" vocational skill level certificate', "“1+X”职业技能等级证书"),
}
# Learning-outcome kinds (creditbank.models.OutcomeKind) as OB 3.0 AchievementType.
OUTCOME_ACHIEVEMENT_TYPES = {
    "course-result": "Course",
    "vocational": "Certification",
    "1+x": "Certification",
    "training": "Certificate",
    "work-experience": "ext:WorkExperience",
    "award": "Award",
    "diploma": "Diploma",
}

# Vocabulary for the Profile's keys: the Controlled Identifiers terms, inline so the document
# needs no context beyond the pinned ones.
_KEY_TERMS = {
    "verificationMethod": {"@id": "https://w3id.org/security#verificationMethod", "@type": "@id"},
    "assertionMethod": {
        "@id": "https://w3id.org/security#assertionMethod", "@type": "@id", "@container": "@set",
    },
    "Multikey": "https://w3id.org/security#Multikey",
    "controller": {"@id": "https://w3id.org/security#controller", "@type": "@id"},
    "publicKeyMultibase": {
        "@id": "https://w3id.org/security#publicKeyMultibase", "@type": "https://w3id.org/security#multibase",
    },
    "revoked": {"@id": "https://w3id.org/security#revoked", "@type": "http://www.w3.org/2001/XMLSchema#dateTime"},
}


class UnknownIssuer(LookupError):
    """No issuer profile has this slug."""


# -- keys ----------------------------------------------------------------------------------------

_key_lock = threading.Lock()
_key_cache: dict[str | None, tuple[Ed25519PrivateKey, str]] = {}


def _master_key() -> tuple[Ed25519PrivateKey, str]:
    """The configured master key and its ``publicKeyMultibase``, parsed once per configured value."""
    configured = getattr(settings, keys.SETTING_NAME, None)
    found = _key_cache.get(configured)
    if found is None:
        with _key_lock:
            private_key = keys.load_signing_key()
            found = (private_key, keys.public_key_multibase(private_key))
            _key_cache.clear()  # one key is in use at a time; a changed setting replaces it
            _key_cache[configured] = found
    return found


def legacy_public_keys() -> list[str]:
    """The shared keys (``z6Mk…``) that signed every credential before issuers had their own.

    Until issue 17 the master key itself signed for every issuer, naming
    ``<profile url>#<publicKeyMultibase>``; those credentials cannot change, so their keys stay
    accepted (for those credentials only) and listed: the master key's public key, and any
    ``CREDENTIAL_RETIRED_PUBLIC_KEYS`` from rotations of that era. The master key signs nothing
    itself any more.
    """
    current = _master_key()[1]
    retired = [k for k in getattr(settings, "CREDENTIAL_RETIRED_PUBLIC_KEYS", ()) or () if k and k != current]
    return [current, *retired]


# -- small helpers --------------------------------------------------------------------------------


def issuer_url(slug: str) -> str:
    return absolute(reverse("verify:issuer", args=[slug]))


def status_list_url(list_number: int) -> str:
    """The shared revocation list of before issue 17 (issued by ``ouc``), kept for what named it."""
    return absolute(reverse("verify:status_list", args=[list_number]))


def issuer_status_list_url(slug: str, purpose: str, list_number: int) -> str:
    """One of issuer ``slug``'s own status lists, issued and signed by that issuer."""
    return absolute(reverse("verify:issuer_status_list", args=[slug, purpose, list_number]))


def achievement_url(*parts: str) -> str:
    """A stable https identifier of an achievement (a URL, not necessarily served)."""
    return absolute("/credentials/achievements/" + "/".join(quote(str(p), safe="") for p in parts) + "/")


def key_url(slug: str, version: int) -> str:
    """The URL of one issuer key: a proof's ``verificationMethod``, answering the Multikey itself."""
    return absolute(reverse("verify:issuer_key", args=[slug, version]))


def _timestamp(moment: datetime.datetime) -> str:
    """RFC 3339 in UTC, whole seconds (OB 3.0 ``DateTimeZ``)."""
    return moment.astimezone(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def _start_of(day: datetime.date) -> str:
    """A calendar date as the moment it starts, in the portal's time zone (RFC 3339 with offset).

    Also for ``activityEndDate``: the OB 3.0 context types it xsd:date, but the schema every
    verifier checks wants a DateTimeZ, and the schema is what wallets enforce.
    """
    return _midnight(day).isoformat()


def _both(en: str, zh: str) -> str:
    return en if not zh or zh == en else f"{en}\n{zh}"


def _credits(value: Decimal) -> float:
    # OB 3.0 types creditsEarned / creditsAvailable as xsd:float: a JSON number.
    return float(value)


def _amount(value: Decimal) -> str:
    """Credits in words: ``4`` not ``4.00``, ``2.5`` not ``2.50``."""
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def identity_object(email: str, salt: str) -> dict[str, Any]:
    """OB 3.0 IdentityObject: the salted sha256 of the learner's (lower-cased) email, never the email."""
    digest = hashlib.sha256((email.strip().lower() + salt).encode("utf-8")).hexdigest()
    return {
        "type": "IdentityObject",
        "identityHash": f"sha256${digest}",
        "identityType": "emailAddress",
        "hashed": True,
        "salt": salt,
    }


def _school_zh(school) -> str:
    """The school's Chinese name as a part of the university (the seeds' names already say so)."""
    name = school.name_zh or school.name_en
    return name if name.startswith("国家开放大学") else f"国家开放大学{name}"


def _ouc_ref() -> dict[str, Any]:
    en, _zh = RESERVED_ISSUERS[OUC]
    return {"id": issuer_url(OUC), "type": ["Profile"], "name": en}


def _school_ref(school) -> dict[str, Any]:
    """The school as an embedded OB 3.0 Profile (as issuer and as achievement creator)."""
    return {
        "id": issuer_url(school.slug),
        "type": ["Profile"],
        "name": school.name_en,
        "description": _both(
            f"{school.name_en}, an industry school of The Open University of China.",
            f"{_school_zh(school)}。" if school.name_zh else "",
        ),
        "url": absolute(school.get_absolute_url()),
        "parentOrg": _ouc_ref(),
    }


def _credit_bank_ref() -> dict[str, Any]:
    en, zh = RESERVED_ISSUERS[CREDIT_BANK]
    return {
        "id": issuer_url(CREDIT_BANK),
        "type": ["Profile"],
        "name": en,
        "description": _both(f"{en}.", f"{zh}。"),
        "parentOrg": _ouc_ref(),
    }


def _status_entry(slug: str, purpose: str, issuer: str, index: int | None) -> dict[str, Any]:
    """The ``credentialStatus`` of a credential of issuer ``slug`` at ``index`` of its lists.

    One entry: OB 3.0 and CLR 2.0 allow a single ``credentialStatus`` object. ``issuer`` is the
    row's ``status_issuer``, which must be ``slug``: the list must be issued by the credential's
    issuer, or verifiers refuse it.
    """
    if index is None or index < 0 or issuer != slug:
        raise CredentialInvalid(f"no status-list index in {slug}'s own lists was allocated")
    url = issuer_status_list_url(slug, purpose, index // STATUS_LIST_SIZE)
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


def _sign(document: dict, *, slug: str, now: datetime.datetime) -> dict:
    """Sign as issuer ``slug`` with its own key in use; ``proof`` is an array (OB 3.0's strict
    schema wants one, and VC 2.0 allows it)."""
    key, private_key = issuer_keys.signing_key(slug)
    signed = dataintegrity.sign(
        document,
        private_key=private_key,
        verification_method=key_url(slug, key.version),
        created=_timestamp(now),
    )
    signed["proof"] = [signed["proof"]]
    return signed


def _finish(document: dict, *, slug: str, schema: str | None, now: datetime.datetime, what: str) -> dict:
    """Sign, check against ``schema`` and verify again; any failure is ``CredentialInvalid``."""
    try:
        signed = _sign(document, slug=slug, now=now)
        if schema is not None:
            validation.validate(signed, schema)
    except CredentialInvalid:
        raise
    except Exception as exc:  # signing, canonicalisation (safe mode), key or schema problems
        raise CredentialInvalid(f"{what}: {exc}") from exc
    if not verify_credential(signed):
        raise CredentialInvalid(f"{what}: the signed credential does not verify")
    return signed


# -- certificates ---------------------------------------------------------------------------------


def _certificate_criteria(cert_type, school_ref: dict, association) -> str:
    if cert_type.programme_id:
        programme = cert_type.programme
        en = (
            f"Complete the programme {programme.name_en} ({programme.code}) of {school_ref['name']}; "
            f"the completion is approved by {association.name_en}."
        )
        zh = f"完成{programme.name_zh or programme.name_en}（{programme.code}）专业学习，经{association.name_zh or association.name_en}审核批准。"
        return _both(en, zh)
    if cert_type.rule_id:
        rule = cert_type.rule
        en = (
            f"Have credits converted by the OUC Credit Bank under conversion rule {rule.code}; "
            f"the certificate is approved by {association.name_en}."
        )
        zh = f"经国家开放大学学分银行按转换规则{rule.code}完成学分转换，经{association.name_zh or association.name_en}审核批准。"
        return _both(en, zh)
    return _both(f"Approved by {association.name_en}.", f"经{association.name_zh or association.name_en}审核批准。")


def _certificate_evidence(certificate: Certificate, approved_at: datetime.datetime | None) -> list[dict]:
    request = certificate.request
    association = request.type.association
    day = timezone.localdate(approved_at) if approved_at else certificate.issued_on
    evidence = [
        {
            "type": ["Evidence"],
            "name": f"Approved by {association.name_en}",
            "description": _both(
                f"{association.name_en}, the partner association that co-runs this certificate, "
                f"approved the request on {day.isoformat()}.",
                f"{association.name_zh}于{day.isoformat()}审核批准。" if association.name_zh else "",
            ),
            "genre": "Approval",
        }
    ]
    enrolment = request.enrolment
    if enrolment is not None:
        programme = request.type.programme if request.type.programme_id == enrolment.programme_id else enrolment.programme
        completed = enrolment.status == "completed"
        evidence.append(
            {
                "type": ["Evidence"],
                "name": f"Enrolment in {programme.name_en} ({programme.code})",
                "description": _both(
                    f"The learner's enrolment in {programme.name_en} ({programme.code})"
                    + (f", completed on {timezone.localdate(enrolment.status_changed_at).isoformat()}." if completed else "."),
                    f"{programme.name_zh}（{programme.code}）专业学习" + ("已完成。" if completed else "。")
                    if programme.name_zh else "",
                ),
                "genre": "Programme completion" if completed else "Enrolment",
            }
        )
    return evidence


def certificate_type_achievement(cert_type) -> dict[str, Any]:
    """The OB 3.0 Achievement of a certificate type: what every certificate of the type embeds
    and what its id (``/credentials/achievements/certificate-types/<code>/``) answers. Nothing of
    one certificate (serial, holder) is in it: one id, one content."""
    school = cert_type.school
    association = cert_type.association
    school_ref = _school_ref(school)
    kind_en, kind_zh = KIND_WORDS.get(cert_type.kind, ("certificate", "证书"))
    achievement = {
        "id": achievement_url("certificate-types", cert_type.code),
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPES.get(cert_type.kind, "Certificate"),
        "name": cert_type.name_en,
        "description": _both(
            f"{cert_type.name_en}: a {kind_en} of The Open University of China, issued by {school.name_en} "
            f"and approved by {association.name_en}.",
            f"{cert_type.name_zh or cert_type.name_en}：{_school_zh(school)}颁发的{kind_zh}，"
            f"经{association.name_zh or association.name_en}审核批准。",
        ),
        "criteria": {"narrative": _certificate_criteria(cert_type, school_ref, association)},
        "creator": school_ref,
        "humanCode": cert_type.code,
        "inLanguage": "en",
    }
    if cert_type.programme_id:
        achievement["fieldOfStudy"] = cert_type.programme.name_en
    return achievement


def certificate_credential(certificate: Certificate, *, now: datetime.datetime | None = None) -> dict:
    """The signed OB 3.0 OpenBadgeCredential of an issued certificate.

    ``certificate`` should come with its request, learner (and user), type, school, association
    and programme selected; the approval date is one more query.
    """
    now = now or timezone.now()
    request = certificate.request
    cert_type = request.type
    school = cert_type.school
    association = cert_type.association
    learner = request.learner
    approved_at = (
        request.history.filter(to_status=RequestStatus.APPROVED).order_by("-at").values_list("at", flat=True).first()
    )
    kind_en, kind_zh = KIND_WORDS.get(cert_type.kind, ("certificate", "证书"))
    description = _both(
        f"{cert_type.name_en}: a {kind_en} of The Open University of China, issued by {school.name_en} "
        f"and approved by {association.name_en}. Serial number {certificate.serial}.",
        f"{cert_type.name_zh or cert_type.name_en}：{_school_zh(school)}颁发的{kind_zh}，"
        f"经{association.name_zh or association.name_en}审核批准。证书编号{certificate.serial}。",
    )
    school_ref = _school_ref(school)
    achievement = certificate_type_achievement(cert_type)
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [identity_object(learner.user.email, secrets.token_hex(16))],
        "achievement": achievement,
    }
    if learner.legal_name:
        subject["name"] = learner.legal_name
    document: dict[str, Any] = {
        "@context": [VC2, OB3, OB3_EXTENSIONS],
        "id": verify_url(certificate.verification_code),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": cert_type.name_en,
        "description": description,
        "issuer": school_ref,
        "validFrom": _start_of(certificate.issued_on),
        "awardedDate": _start_of(certificate.issued_on),
        "credentialSubject": subject,
        "evidence": _certificate_evidence(certificate, approved_at),
        "credentialSchema": [
            {"id": validation.load_schema(validation.ACHIEVEMENT_CREDENTIAL)["$id"], "type": SCHEMA_VALIDATOR_TYPE}
        ],
        "credentialStatus": _status_entry(school.slug, REVOCATION, certificate.status_issuer, certificate.status_index),
    }
    if certificate.expires_on:
        document["validUntil"] = _start_of(certificate.expires_on)
    return _finish(
        document, slug=school.slug, schema=validation.ACHIEVEMENT_CREDENTIAL, now=now,
        what=f"certificate {certificate.serial}",
    )


# -- transcripts ----------------------------------------------------------------------------------


def _seqs(seqs: Iterable[int]) -> str:
    seqs = list(seqs)
    return ", ".join(f"#{s}" for s in seqs) if seqs else "none"


def _provenance(*lines: tuple[str, str]) -> str:
    """Provenance as a short signed list: ``- label: value`` a line."""
    return "\n".join(f"- {label}: {value}" for label, value in lines)


def account_achievement() -> dict[str, Any]:
    """Holding an OUC Credit Bank account: the same for every learner (their numbers are evidence)."""
    return {
        "id": achievement_url("credit-bank", "account"),
        "type": ["Achievement"],
        "achievementType": "ext:CreditBankAccount",
        "name": "OUC Credit Bank account",
        "description": _both(
            "An account in the OUC Credit Bank: the credits accredited from the learner's learning outcomes.",
            "国家开放大学学分银行账户：学习成果认定的学分。",
        ),
        "criteria": {"narrative": "Credits accredited by the OUC Credit Bank and not reversed."},
    }


def course_achievement(
    *, programme_code: str, programme_name_en: str, programme_name_zh: str, course_code: str,
    course_name_en: str, course_name_zh: str,
) -> dict[str, Any]:
    """A course of a programme, as its id answers it (what one learner did is in the evidence)."""
    return {
        "id": achievement_url("programmes", programme_code, "courses", course_code),
        "type": ["Achievement"],
        "achievementType": "Course",
        "name": f"{course_name_en} ({course_code})",
        "description": _both(
            f"Course {course_code} {course_name_en} of {programme_name_en} ({programme_code}).",
            f"{programme_name_zh}（{programme_code}）课程{course_code}{course_name_zh}。" if course_name_zh else "",
        ),
        "criteria": {
            "narrative": "Pass the course, or have it exempted by a conversion rule of the OUC Credit Bank."
        },
        "humanCode": course_code,
    }


def group_achievement(
    *, programme_code: str, programme_name_en: str, programme_name_zh: str, group_name_en: str, group_name_zh: str,
) -> dict[str, Any]:
    """A requirement group of a programme, which transferred credits count towards."""
    return {
        "id": achievement_url("programmes", programme_code, "groups", group_name_en),
        "type": ["Achievement"],
        "achievementType": "ext:CreditTransfer",
        "name": f"{programme_name_en} ({programme_code}): {group_name_en}",
        "description": _both(
            f"Requirement group “{group_name_en}” of {programme_name_en} ({programme_code}).",
            f"{programme_name_zh}（{programme_code}）：{group_name_zh}。" if group_name_zh else "",
        ),
        "criteria": {"narrative": "Credits of the group, earned or transferred by the OUC Credit Bank."},
    }


def programme_achievement(
    *, programme_code: str, programme_name_en: str, programme_name_zh: str, school_name_en: str, school_name_zh: str,
) -> dict[str, Any]:
    """A programme (the learner's progress in it is the credential's result and evidence)."""
    achievement_id = achievement_url("programmes", programme_code)
    return {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": "LearningProgram",
        "name": f"{programme_name_en} ({programme_code})",
        "description": _both(
            f"Programme {programme_name_en} ({programme_code}) of {school_name_en}.",
            f"{school_name_zh}{programme_name_zh}（{programme_code}）专业。" if programme_name_zh else "",
        ),
        "criteria": {"narrative": "Earn the credits every requirement group of the programme requires."},
        "resultDescription": [
            {"id": f"{achievement_id}#status", "type": ["ResultDescription"], "name": "Programme status", "resultType": "Status"}
        ],
    }


def achievement_document(path: str) -> dict[str, Any]:
    """What ``/credentials/achievements/<path>`` answers: the Achievement with that id, as the
    credentials embed it, in JSON-LD. ``LookupError`` when no such achievement exists."""
    from certificates.models import CertificateType
    from enrolment.models import Course, Programme, RequirementGroup

    parts = path.strip("/").split("/")
    achievement: dict[str, Any] | None = None
    if len(parts) == 2 and parts[0] == "certificate-types":
        cert_type = (
            CertificateType.objects.select_related("school", "association", "programme", "rule")
            .filter(code=parts[1]).first()
        )
        achievement = certificate_type_achievement(cert_type) if cert_type else None
    elif parts == ["credit-bank", "account"]:
        achievement = account_achievement()
    elif parts[0] == "programmes" and len(parts) >= 2:
        programme = Programme.objects.select_related("school").filter(code=parts[1]).first()
        if programme is None:
            raise LookupError(path)
        names = {
            "programme_code": programme.code, "programme_name_en": programme.name_en,
            "programme_name_zh": programme.name_zh,
        }
        if len(parts) == 2:
            achievement = programme_achievement(
                **names, school_name_en=programme.school.name_en, school_name_zh=programme.school.name_zh
            )
        elif len(parts) == 4 and parts[2] == "courses":
            course = Course.objects.filter(school=programme.school_id, code=parts[3]).first()
            if course is not None:
                achievement = course_achievement(
                    **names, course_code=course.code, course_name_en=course.name_en, course_name_zh=course.name_zh
                )
        elif len(parts) >= 4 and parts[2] == "groups":
            group = RequirementGroup.objects.filter(programme=programme, name_en="/".join(parts[3:])).first()
            if group is not None:
                achievement = group_achievement(**names, group_name_en=group.name_en, group_name_zh=group.name_zh)
    if achievement is None:
        raise LookupError(path)
    return {"@context": [VC2, OB3], **achievement}


class _TranscriptLines:
    """The nested AchievementCredentials of one transcript, signed one by one."""

    def __init__(self, transcript: Transcript, record, *, now: datetime.datetime, identity: dict) -> None:
        self.base = verify_url(transcript.verification_code)
        self.issuer = _credit_bank_ref()
        self.record = record
        self.now = now
        self.identity = identity
        self.valid_from = _timestamp(record.at)
        # Every line names the transcript's place in the credit bank's suspension list: a newer
        # transcript supersedes this one, and each line, which may be shown on its own, with it.
        self.status = _status_entry(CREDIT_BANK, SUSPENSION, transcript.status_issuer, transcript.status_index)

    def credential(
        self, *, anchor: str, name: str, achievement: dict, awarded: datetime.datetime | None,
        credits: Decimal | None = None, evidence: dict | None = None, **subject_extra: Any,
    ) -> dict:
        subject: dict[str, Any] = {
            "type": ["AchievementSubject"],
            "identifier": [self.identity],
            "achievement": achievement,
            **subject_extra,
        }
        if credits is not None:
            subject["creditsEarned"] = _credits(credits)
        document: dict[str, Any] = {
            "@context": [VC2, OB3],
            "id": f"{self.base}#{anchor}",
            "type": ["VerifiableCredential", "AchievementCredential"],
            "name": name,
            "issuer": self.issuer,
            "validFrom": self.valid_from,
            "credentialSubject": subject,
            "credentialStatus": copy.deepcopy(self.status),
        }
        if awarded is not None:
            document["awardedDate"] = _timestamp(awarded)
        if evidence is not None:
            document["evidence"] = [{"type": ["Evidence"], **evidence}]
        return _finish(
            document, slug=CREDIT_BANK, schema=validation.ACHIEVEMENT_CREDENTIAL, now=self.now,
            what=f"transcript line {anchor}",
        )

    def account(self) -> dict:
        record = self.record
        balance = _amount(record.balance)
        return self.credential(
            anchor="account",
            name="OUC Credit Bank account",
            achievement=account_achievement(),
            awarded=record.at,
            credits=record.balance,
            evidence={
                "name": "Credit-bank account",
                "description": _both(
                    f"Credit-bank account {record.account_number or '(none)'}: {balance} credits accredited "
                    f"from {len(record.outcomes)} learning outcome(s).",
                    f"学分银行账户{record.account_number or '（无）'}：{len(record.outcomes)}项学习成果认定学分{balance}。",
                ),
                "narrative": _provenance(("Account number", record.account_number or "none"), ("Learner", record.learner_id)),
                "genre": "Credit-bank account",
            },
        )

    def outcome(self, o) -> dict:
        standard = f"{o.standard_code} v{o.standard_version}"
        achievement: dict[str, Any] = {
            "id": f"urn:uuid:{o.public_id}",
            "type": ["Achievement"],
            "achievementType": OUTCOME_ACHIEVEMENT_TYPES.get(o.kind, "Achievement"),
            "name": o.title,
            "description": (
                f"{o.title}, issued by {o.issuing_body or 'the issuing body'} on {o.achieved_on.isoformat()}"
                + (f", level {o.level}" if o.level else "")
                + f". Accredited by the OUC Credit Bank against recognition standard {standard}."
            ),
            "criteria": {
                "narrative": _both(
                    f"Meets recognition standard {standard}: {o.standard_title_en}.",
                    f"符合认定标准{standard}：{o.standard_title_zh}。" if o.standard_title_zh else "",
                )
            },
            "alignment": [
                {
                    "type": ["Alignment"],
                    "targetName": f"{standard}: {o.standard_title_en}",
                    "targetCode": o.standard_code,
                    "targetDescription": _both(o.standard_title_en, o.standard_title_zh),
                    "targetFramework": "OUC Credit Bank recognition standards",
                    "targetType": "ext:RecognitionStandard",
                    "targetUrl": absolute(
                        "/credentials/standards/" + quote(o.standard_code, safe="") + f"/{o.standard_version}/"
                    ),
                }
            ],
        }
        return self.credential(
            anchor=f"outcome-{o.public_id}",
            name=f"Accredited: {o.title}",
            achievement=achievement,
            awarded=o.accredited_at,
            credits=o.credits,
            activityEndDate=_start_of(o.achieved_on),
            evidence={
                "name": f"Accreditation under {standard}",
                "description": f"Accredited on {_timestamp(o.accredited_at)} for {_amount(o.credits)} credits.",
                "narrative": _provenance(
                    ("Learning outcome", o.public_id),
                    ("Recognition standard", f"{o.standard_code}, version {o.standard_version}"),
                    ("Ledger entries", _seqs(o.entry_seqs)),
                ),
                "genre": "Accreditation",
            },
        )

    def conversion(self, c) -> dict:
        rule = f"{c.rule_code} v{c.rule_version}"
        return self.credential(
            anchor=f"conversion-{c.public_id}",
            name=f"Course exempted: {c.course_name_en} ({c.course_code})",
            achievement=course_achievement(
                programme_code=c.programme_code, programme_name_en=c.programme_name_en,
                programme_name_zh=c.programme_name_zh, course_code=c.course_code,
                course_name_en=c.course_name_en, course_name_zh=c.course_name_zh,
            ),
            awarded=c.at,
            credits=c.credits,
            evidence={
                "name": f"Conversion under {rule}",
                "description": (
                    f"Converted on {_timestamp(c.at)}: {_amount(c.credits)} credits, course exempted, replaced by "
                    f"the learning outcome “{c.outcome_title}” under conversion rule {rule}."
                ),
                "narrative": _provenance(
                    ("Conversion", c.public_id),
                    ("Learning outcome", c.outcome_id),
                    ("Conversion rule", f"{c.rule_code}, version {c.rule_version}"),
                    ("Programme", c.programme_code),
                    ("Ledger entries", _seqs(c.entry_seqs)),
                ),
                "genre": "Conversion",
            },
        )

    def transfer(self, t) -> dict:
        return self.credential(
            anchor=f"transfer-{t.public_id}",
            name=f"Credits transferred to {t.programme_name_en}: {t.group_name_en}",
            achievement=group_achievement(
                programme_code=t.programme_code, programme_name_en=t.programme_name_en,
                programme_name_zh=t.programme_name_zh, group_name_en=t.group_name_en, group_name_zh=t.group_name_zh,
            ),
            awarded=t.at,
            credits=t.credits,
            evidence={
                "name": "Credit transfer",
                "description": (
                    f"Transferred on {_timestamp(t.at)}: {_amount(t.credits)} credits of the learning outcome "
                    f"“{t.outcome_title}”."
                ),
                "narrative": _provenance(
                    ("Transfer", t.public_id),
                    ("Learning outcome", t.outcome_id),
                    ("Programme", t.programme_code),
                    ("Ledger entries", _seqs(t.entry_seqs)),
                ),
                "genre": "Transfer",
            },
        )

    def audit(self, a) -> dict:
        achievement = programme_achievement(
            programme_code=a.programme_code, programme_name_en=a.programme_name_en,
            programme_name_zh=a.programme_name_zh, school_name_en=a.school_name_en, school_name_zh=a.school_name_zh,
        )
        achievement_id = achievement["id"]
        counted = a.earned + a.exempted + a.transferred
        done = a.complete or a.status == "completed"
        return self.credential(
            anchor=f"programme-{a.enrolment_id}",
            name=f"Programme progress: {a.programme_name_en}",
            achievement=achievement,
            awarded=_midnight(a.completed_on) if a.completed_on else None,
            credits=counted,
            result=[{"type": ["Result"], "resultDescription": f"{achievement_id}#status", "status": "Completed" if done else "InProgress"}],
            **({"activityEndDate": _start_of(a.completed_on)} if a.completed_on else {}),
            evidence={
                "name": "Programme audit",
                "description": (
                    f"Required {_amount(a.required)} credits; earned {_amount(a.earned)}, exempted {_amount(a.exempted)}, "
                    f"transferred {_amount(a.transferred)}."
                ),
                "narrative": _provenance(("Enrolment", a.enrolment_id), ("Enrolment status", a.status), ("Programme", a.programme_code)),
                "genre": "Programme audit",
            },
        )


def transcript_credential(transcript: Transcript, record, *, now: datetime.datetime | None = None) -> dict:
    """The signed CLR 2.0 ClrCredential of a transcript: the learner's record at ``record.at``.

    One nested AchievementCredential a line, each signed by the credit bank: the account, every
    accredited outcome, conversion, transfer and programme audit; certificates are embedded as
    the OpenBadgeCredentials their schools issued (so they verify, and show revocation, on their own).
    """
    now = now or timezone.now()
    salt = secrets.token_hex(16)
    identity = identity_object(record.email, salt)
    lines = _TranscriptLines(transcript, record, now=now, identity=identity)
    try:
        nested = [lines.account()]
        nested += [lines.outcome(o) for o in record.outcomes]
        nested += [lines.conversion(c) for c in record.conversions]
        nested += [lines.transfer(t) for t in record.transfers]
        nested += [lines.audit(a) for a in record.audits]
    except CredentialInvalid:
        raise
    except Exception as exc:
        raise CredentialInvalid(f"transcript {transcript.public_id}: {exc}") from exc
    if record.certificates:
        codes = [line.verification_code for line in record.certificates]
        stored = dict(
            Certificate.objects.filter(verification_code__in=codes, credential__isnull=False).values_list(
                "verification_code", "credential"
            )
        )
        nested += [stored[code] for code in codes if code in stored]
    en, zh = RESERVED_ISSUERS[CREDIT_BANK]
    subject: dict[str, Any] = {
        "type": ["ClrSubject"],
        "identifier": [identity],
        "verifiableCredential": nested,
    }
    if record.legal_name and record.legal_name != record.email:
        subject["name"] = record.legal_name
    document = {
        "@context": [VC2, CLR2, OB3, OB3_EXTENSIONS],
        "id": verify_url(transcript.verification_code),
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": "OUC Credit Bank transcript",
        "description": _both(
            f"The learner's record in the {en} at {_timestamp(record.at)}: accredited learning outcomes, "
            "conversions, transfers, programme progress and certificates.",
            f"{zh}学习成果记录（{timezone.localtime(record.at).strftime('%Y-%m-%d %H:%M')}）：认定的学习成果、学分转换、学分转移、专业进度与证书。",
        ),
        "issuer": _credit_bank_ref(),
        "validFrom": _timestamp(record.at),
        "awardedDate": _timestamp(record.at),
        "partial": False,
        "credentialSubject": subject,
        "credentialSchema": [
            {"id": validation.load_schema(validation.CLR_CREDENTIAL)["$id"], "type": SCHEMA_VALIDATOR_TYPE}
        ],
        "credentialStatus": lines.status,
    }
    return _finish(
        document, slug=CREDIT_BANK, schema=validation.CLR_CREDENTIAL, now=now,
        what=f"transcript {transcript.public_id}",
    )


# -- issuer profiles ------------------------------------------------------------------------------


def signed_holder_name(credential: dict | None) -> str:
    """The holder's name as ``credential`` was signed with it: its subject's ``name``, or "" when
    it names nobody. What every public page shows as the holder, whatever the profile says later."""
    subject = (credential or {}).get("credentialSubject") or {}
    name = subject.get("name") if isinstance(subject, dict) else None
    return name if isinstance(name, str) else ""


def _profile_body(slug: str) -> dict[str, Any]:
    """The descriptive part of issuer ``slug``'s Profile; ``UnknownIssuer`` if there is none."""
    if slug in RESERVED_ISSUERS:
        en, zh = RESERVED_ISSUERS[slug]
        profile: dict[str, Any] = {"name": en, "description": _both(f"{en}.", f"{zh}。")}
        if slug == OUC:
            profile["url"] = absolute("/")
        else:
            profile["parentOrg"] = _ouc_ref()
        return profile
    from schools.models import IndustrySchool

    school = IndustrySchool.objects.filter(slug=slug).first()
    if school is None:
        raise UnknownIssuer(slug)
    ref = _school_ref(school)
    return {k: v for k, v in ref.items() if k not in ("id", "type")}


def _multikey(key, *, slug: str) -> dict[str, Any]:
    method: dict[str, Any] = {
        "id": key_url(slug, key.version),
        "type": "Multikey",
        "controller": issuer_url(slug),
        "publicKeyMultibase": key.public_key_multibase,
    }
    if key.revoked_at is not None:
        method["revoked"] = _timestamp(key.revoked_at)
    return method


def key_document(slug: str, version: int) -> dict[str, Any]:
    """What a proof's ``verificationMethod`` URL answers: the key itself, a ``Multikey`` whose
    ``controller`` is the issuer's Profile. ``LookupError`` if the issuer has no such key.

    A retired key is published as it was (no ``expires``): Controlled Identifiers tells verifiers
    to refuse every proof of an expired or revoked method after that moment, old proofs included,
    and a rotation must leave what the old key signed verifying. Only a compromised key is
    published ``revoked``.
    """
    from certificates.models import IssuerKey

    key = IssuerKey.objects.filter(issuer=slug, version=version).first()
    if key is None:
        raise LookupError(f"{slug} has no key {version}")
    return {"@context": MULTIKEY_V1, **_multikey(key, slug=slug)}


def _has_legacy_credentials(slug: str) -> bool:
    """Whether anything this issuer stored was signed with the shared key of before issue 17.

    Those are the stored credentials whose row has no issuer's status lists (``status_issuer``
    empty): since issue 17 a row takes its issuer's index before it is signed. An indexed
    filter, not a look into every stored credential's JSON.
    """
    legacy = Q(status_issuer="", credential__isnull=False)
    if slug == OUC:  # signed the one shared status list that every legacy credential names
        return Certificate.objects.filter(legacy).exists() or Transcript.objects.filter(legacy).exists()
    if slug == CREDIT_BANK:
        return Transcript.objects.filter(legacy).exists()
    return Certificate.objects.filter(legacy, school__slug=slug).exists()


def issuer_profile(slug: str) -> dict:
    """The OB 3.0 Profile of issuer ``slug`` (a school, ``credit-bank`` or ``ouc``) with its keys.

    Every key the issuer ever had is listed (``verificationMethod``, embedded) and named under
    ``assertionMethod``, which is where a verifier checks that the Profile — the controller of the
    key and the credential's issuer — uses that key to issue. While credentials signed with the
    shared key of before issue 17 exist, it is listed too, by its old ``<profile>#<key>`` id.
    Raises ``UnknownIssuer`` for any other slug.
    """
    profile = _profile_body(slug)
    url = issuer_url(slug)
    methods = [_multikey(key, slug=slug) for key in issuer_keys.published_keys(slug)]
    if _has_legacy_credentials(slug):
        methods += [
            {"id": f"{url}#{key}", "type": "Multikey", "controller": url, "publicKeyMultibase": key}
            for key in legacy_public_keys()
        ]
    return {
        "@context": [VC2, OB3, copy.deepcopy(_KEY_TERMS)],
        "id": url,
        "type": ["Profile"],
        **profile,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods if "revoked" not in m],
    }


def _issuer_prefix() -> str:
    marker = "--issuer--"
    return issuer_url(marker).split(marker)[0]


_KEY_PATH = re.compile(r"^keys/([1-9][0-9]{0,8})/$")


def _trusted_key(slug: str, method: Any, *, legacy_shape: bool) -> str | None:
    """The public key the portal trusts for ``method`` in a credential issued by ``slug``, or None.

    Only the issuer's own keys, never revoked ones. The shared key of before issue 17 only in a
    credential of that era's shape (one proof object naming ``<profile>#<key>``).
    """
    from certificates.models import IssuerKey

    if not isinstance(method, str):
        return None
    profile = issuer_url(slug)
    if legacy_shape and method.startswith(profile + "#"):
        key = method[len(profile) + 1:]
        return key if key in legacy_public_keys() else None
    if not method.startswith(profile):
        return None
    match = _KEY_PATH.match(method[len(profile):])
    if match is None:
        return None
    return (
        IssuerKey.objects.filter(issuer=slug, version=int(match.group(1)), revoked_at__isnull=True)
        .values_list("public_key_multibase", flat=True)
        .first()
    )


def verify_credential(document: Any) -> bool:
    """True if ``document``'s proof verifies with a key of its own issuer, as this portal knows it.

    The issuer must be one of this portal's issuer profiles, and the proof's
    ``verificationMethod`` one of that issuer's published keys (``<profile>keys/<n>/``) that is
    not revoked; another issuer's key, even a valid one, does not do. Offline: the keys are read
    from the database, nothing is fetched. Never raises.
    """
    try:
        if not isinstance(document, dict):
            return False
        issuer = document.get("issuer")
        issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
        prefix = _issuer_prefix()
        if not isinstance(issuer_id, str) or not issuer_id.startswith(prefix) or not issuer_id.endswith("/"):
            return False
        slug = issuer_id[len(prefix):-1]
        if not slug or issuer_url(slug) != issuer_id:
            return False
        legacy_shape = isinstance(document.get("proof"), dict)
        for proof in dataintegrity.proofs_of(document):
            public_key = _trusted_key(slug, proof.get("verificationMethod"), legacy_shape=legacy_shape)
            if public_key and dataintegrity.verify(document, public_key=public_key, proof=proof):
                return True
        return False
    except Exception:  # noqa: BLE001 - a verifier answers False, it does not crash
        return False


# -- the revocation status list -------------------------------------------------------------------


def encode_status_list(indexes: Iterable[int], *, size: int = STATUS_LIST_SIZE) -> str:
    """GZIP, then multibase base64url without padding (``u…``), of a ``size``-bit list.

    Bit ``i`` is set for every ``i`` in ``indexes``; index 0 is the most significant bit of the
    first byte (Bitstring Status List v1.0, "Bitstring Generation Algorithm").
    """
    bits = bytearray(size // 8)
    for index in indexes:
        if not 0 <= index < size:
            raise ValueError(f"status index {index} is outside a list of {size}")
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0: the same list always compresses to the same bytes (and the same signature input).
    compressed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_status_list(encoded: str) -> bytes:
    """The raw bitstring of an ``encodedList`` (multibase base64url of GZIP), as the spec expands it."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise ValueError("encodedList must be multibase base64url (starting with 'u')")
    body = encoded[1:]
    compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    return gzip.decompress(compressed)


def status_bit(bitstring: bytes, index: int) -> bool:
    if not 0 <= index < len(bitstring) * 8:
        raise ValueError(f"status index {index} is outside the list ({len(bitstring) * 8} entries)")
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


STATUS_WORDS = {REVOCATION: "revoked", SUSPENSION: "suspended"}


def status_of(status_list: dict, index: int | str) -> dict[str, Any]:
    """Read entry ``index`` of a BitstringStatusListCredential: ``{"index", "purpose", "set", "status"}``.

    ``status`` is ``revoked`` or ``suspended`` when the bit is set (by the list's purpose), else ``valid``.
    """
    subject = status_list["credentialSubject"]
    bitstring = decode_status_list(subject["encodedList"])
    if len(bitstring) * 8 < STATUS_LIST_SIZE:
        raise ValueError("the status list is shorter than the minimum 131,072 entries")
    position = int(index) % STATUS_LIST_SIZE
    is_set = status_bit(bitstring, position)
    purpose = subject.get("statusPurpose")
    return {
        "index": int(index),
        "purpose": purpose,
        "set": is_set,
        "status": STATUS_WORDS.get(purpose, purpose) if is_set else "valid",
    }


def _positions(queryset, low: int) -> list[int]:
    return [i - low for i in queryset.filter(status_index__gte=low, status_index__lt=low + STATUS_LIST_SIZE).values_list(
        "status_index", flat=True
    )]


def revoked_indexes(list_number: int) -> list[int]:
    """Positions (within shared list ``list_number``) of the revoked certificates: one query."""
    revoked = Certificate.objects.filter(status=Certificate.Status.REVOKED, status_issuer="")
    return _positions(revoked, list_number * STATUS_LIST_SIZE)


def set_positions(slug: str, purpose: str, list_number: int) -> list[int]:
    """Positions set in issuer ``slug``'s ``purpose`` list ``list_number``, read from the rows.

    Revocation: its revoked certificates (transcripts are never revoked). Suspension: its
    certificates suspended under review, and its superseded transcripts.
    """
    low = list_number * STATUS_LIST_SIZE
    certificates = Certificate.objects.filter(status_issuer=slug)
    if purpose == REVOCATION:
        return _positions(certificates.filter(status=Certificate.Status.REVOKED), low)
    if purpose != SUSPENSION:
        raise ValueError(f"no {purpose!r} status lists")
    suspended = _positions(
        certificates.filter(suspended_at__isnull=False).exclude(status=Certificate.Status.REVOKED), low
    )
    superseded = _positions(Transcript.objects.filter(status_issuer=slug, superseded_by__isnull=False), low)
    return suspended + superseded


STATUS_LIST_CACHE_SECONDS = 24 * 60 * 60


def last_status_list() -> int:
    """The highest shared list number any credential of before issue 17 points to (0 if none)."""
    last = StatusListCounter.objects.filter(purpose=STATUS_PURPOSE).values_list("last", flat=True).first()
    return max(last or 0, 0) // STATUS_LIST_SIZE


def last_issuer_status_list(slug: str) -> int:
    """The highest list number of issuer ``slug``'s lists that any credential points to (0 if none)."""
    last = StatusListCounter.objects.filter(purpose=f"issuer:{slug}").values_list("last", flat=True).first()
    return max(last or 0, 0) // STATUS_LIST_SIZE


def _status_list(
    *, url: str, slug: str, purpose: str, positions: list[int], now: datetime.datetime | None, what: str
) -> dict:
    """Sign ``positions`` as a BitstringStatusListCredential of issuer ``slug``, or take the
    signature made for the same content before.

    Only the signing is cached, under a key made of what the list says (url, positions, key), so
    nothing ever needs invalidating: a new revocation is a new key.
    """
    try:
        public_key = issuer_keys.signing_key(slug, create=False)[0].public_key_multibase
    except issuer_keys.NoIssuerKey:
        if slug != OUC:
            raise
        public_key = None  # the shared list, before ouc has a key of its own: signed as it was
    positions = sorted(positions)
    digest = hashlib.sha256(f"{url}|{public_key}|{','.join(map(str, positions))}".encode()).hexdigest()
    cache_key = f"certificates:status-list:{digest}"
    cached = cache.get(cache_key)
    if cached is not None:
        return cached
    now = now or timezone.now()
    document = {
        "@context": [VC2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_url(slug),
        "validFrom": _timestamp(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_status_list(positions),
        },
    }
    if public_key is None:
        master, master_public = _master_key()
        signed = dataintegrity.sign(
            document, private_key=master, verification_method=f"{issuer_url(OUC)}#{master_public}",
            created=_timestamp(now),
        )
    else:
        signed = _finish(document, slug=slug, schema=None, now=now, what=what)
    cache.set(cache_key, signed, STATUS_LIST_CACHE_SECONDS)
    return signed


def status_list_credential(list_number: int, *, now: datetime.datetime | None = None) -> dict:
    """The signed shared revocation list ``list_number`` of before issue 17, current as of this
    call (issued by ``ouc``, signed with ``ouc``'s own key). The revoked positions are read every
    time (one indexed query), so a revocation shows at once."""
    if list_number < 0:
        raise ValueError("status list numbers start at 0")
    return _status_list(
        url=status_list_url(list_number), slug=OUC, purpose=STATUS_PURPOSE,
        positions=revoked_indexes(list_number), now=now, what=f"status list {list_number}",
    )


def issuer_status_list_credential(
    slug: str, purpose: str, list_number: int, *, now: datetime.datetime | None = None
) -> dict:
    """Issuer ``slug``'s signed ``purpose`` list ``list_number``, built from the rows on every call."""
    if list_number < 0:
        raise ValueError("status list numbers start at 0")
    return _status_list(
        url=issuer_status_list_url(slug, purpose, list_number), slug=slug, purpose=purpose,
        positions=set_positions(slug, purpose, list_number), now=now,
        what=f"{slug}'s {purpose} list {list_number}",
    )


def issuer_exists(slug: str) -> bool:
    try:
        _profile_body(slug)
    except UnknownIssuer:
        return False
    return True


def status_list_etag(signed: dict) -> str:
    return hashlib.sha256(dataintegrity.proofs_of(signed)[0]["proofValue"].encode()).hexdigest()[:32]
