import json

import pytest
from django.core.management import CommandError, call_command

from certificates.credentials.builders import verify_credential
from certificates.models import Certificate, CertificateType, Transcript

pytestmark = pytest.mark.django_db
SETUP = ("load_network", "load_catalogue", "seed_demo", "seed_demo_enrolments", "load_recognition", "seed_demo_credits")


def test_the_demo_network_gets_its_certificate_types_and_one_issued_certificate(settings, eager, django_capture_on_commit_callbacks):
    settings.DEBUG = True
    for command in SETUP:
        call_command(command, verbosity=0)
    call_command("load_certificate_types", verbosity=0)
    types = CertificateType.objects.count()
    assert CertificateType.objects.filter(code="cnc-teacher-training-completion", kind="training").exists()
    assert CertificateType.objects.get(code="nct-two-certificates").rule.code == "NCT-TWO-CERT"
    with django_capture_on_commit_callbacks(execute=True):  # as `make run`'s commits would
        call_command("seed_demo_certificates", verbosity=0)
    certificate = Certificate.objects.get()
    assert certificate.request.learner.legal_name == "李娜" and certificate.is_ready
    assert certificate.request.type.association.slug == "mechanical-industry-education-development-centre"
    assert verify_credential(certificate.credential)
    assert Transcript.objects.get().status == "ready"
    # Again: nothing new.
    call_command("load_certificate_types", verbosity=0)
    call_command("seed_demo_certificates", verbosity=0)
    assert (CertificateType.objects.count(), Certificate.objects.count(), Transcript.objects.count()) == (types, 1, 1)


def test_certificate_types_refuse_a_bad_file_and_store_nothing(settings, tmp_path):
    for command in ("load_network", "load_catalogue", "load_recognition"):
        call_command(command, verbosity=0)
    bad = tmp_path / "types.json"
    bad.write_text(json.dumps({"types": [{"code": "x", "school": "mechanical", "association": "nobody", "kind": "1+x",
                                          "name_en": "X", "rule": "NCT-RC-1X"}]}), encoding="utf-8")
    with pytest.raises(CommandError, match="nothing changed.*no association 'nobody'"):
        call_command("load_certificate_types", file=bad)
    assert not CertificateType.objects.exists()
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="nothing changed"):
        call_command("load_certificate_types", file=bad)
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo_certificates")
