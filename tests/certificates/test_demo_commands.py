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


def test_verify_credential_checks_a_file_offline(cast, eager, tmp_path, capsys):
    from certificates import services
    from tests import factories

    cert_type = factories.CertificateTypeFactory(school=cast.school, association=cast.association)
    request = factories.completed_request(learner=cast.learner.learner, cert_type=cert_type)
    services.request_approve(request=request, reviewer=cast.reviewer)
    certificate = services.certificate_issue(request_id=request.pk)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(certificate.credential), encoding="utf-8")
    call_command("verify_credential", str(good))
    out = capsys.readouterr().out
    assert "schema ob_v3p0_achievementcredential_schema: valid" in out
    assert "proof eddsa-rdfc-2022: verifies" in out
    tampered = dict(certificate.credential, name=certificate.credential["name"] + "!")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(tampered), encoding="utf-8")
    with pytest.raises(CommandError, match="does not pass"):
        call_command("verify_credential", str(bad))
    assert "DOES NOT VERIFY" in capsys.readouterr().out
    (tmp_path / "junk.json").write_text("[1, 2", encoding="utf-8")
    with pytest.raises(CommandError, match="not a readable JSON"):
        call_command("verify_credential", str(tmp_path / "junk.json"))


@pytest.mark.django_db(transaction=True)  # commits fire the issuing at once, as under `make run`
def test_without_the_pdf_tools_the_demo_certificate_waits_to_be_retried(settings, eager, monkeypatch, capsys):
    from certificates import rendering
    from certificates.models import CertificateRequest

    settings.DEBUG = True
    for command in SETUP:
        call_command(command, verbosity=0)
    call_command("load_certificate_types", verbosity=0)

    def no_pango(certificate):
        raise OSError("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(rendering, "certificate_pdf", no_pango)
    call_command("seed_demo_certificates", verbosity=0)
    assert "fonts-noto-cjk" in capsys.readouterr().err
    request = CertificateRequest.objects.get(learner__user__email="learner2@ouc.example")
    assert request.status == "approved" and request.issue_failed_at and "libpango" in request.issue_error
    assert not Certificate.objects.filter(credential__isnull=False).exists()
