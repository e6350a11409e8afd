"""Journey 4 in a real browser, on the real worker: a reviewer approves, the Celery worker issues,
the learner downloads the PDF on a phone, a stranger verifies it from the PDF's link, the reviewer
revokes, the stranger sees it revoked, with the date and the reason.

And the pages of long work: a bulk approval and a transcript say queued / working / ready and
follow the worker by themselves (no manual reload). Journey 5 on these pages: the language switch
turns the verification page, the learner's certificates and the review queue into Chinese and back.

The worker is held (it stops taking tasks from its queue) while a waiting state is asserted and
screenshotted, then let go: a fast worker would otherwise finish before the page is looked at, and
a test that only sometimes sees "Queued" proves nothing.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pypdf
import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from certificates.models import (
    Certificate,
    CertificateRequest,
    CertificateType,
    RequestStatus,
    Transcript,
)
from enrolment import results
from enrolment import services as enrolment_services
from enrolment.models import Intake
from schools.models import IndustrySchool, LearningCentre, Membership
from tests import factories
from tests.conftest import wait_for
from tests.e2e.conftest import DESKTOP, PHONE, zh, zh_plural

pytestmark = [pytest.mark.needs_services, pytest.mark.django_db(transaction=True)]

PROGRAMME = "cnc-teacher-training"  # three courses: a short road to a completed programme
CERT_TYPE = f"{PROGRAMME}-completion"
REVIEWER = "zhao.min@miedc.example"
SCHOOL_ADMIN = "qian.jin@ouc.example"
LEARNER = "zhang.wei@baic.example"
BATCH = [
    ("李娜", "li.na"),
    ("王芳", "wang.fang"),
    ("刘洋", "liu.yang"),
    ("陈静", "chen.jing"),
    ("杨磊", "yang.lei"),
]
PROGRESS = 60_000  # ms: how long a progress page may take to follow the worker to the end


# --- The stage ------------------------------------------------------------------------------------


def _verified_user(email: str, name: str):
    user = factories.UserFactory(email=email, name=name)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def _learner(email: str, legal_name: str):
    user = _verified_user(email, legal_name)
    return factories.LearnerFactory(
        user=user,
        legal_name=legal_name,
        employer="BAIC Motor",
        job_title="CNC trainer",
        centre=LearningCentre.objects.get(code="baic-learning-centre"),
    )


def complete_programme(learner, *, admin) -> CertificateRequest:
    """Apply, be accepted, pass every course: the completion opens the certificate request."""
    intake = Intake.objects.filter(programme__slug=PROGRAMME).order_by("-opens_at").first()
    enrolment = enrolment_services.enrolment_apply(learner=learner, intake=intake).enrolment
    enrolment_services.enrolment_accept(
        enrolment=enrolment, actor=admin, reason="Entry requirements met."
    )
    enrolment_services.enrolment_activate(enrolment=enrolment, actor=admin)
    assessed_on = timezone.localdate() - datetime.timedelta(days=2)
    for course in intake.programme.groups.all()[0].courses.order_by("code"):
        results.result_record(
            enrolment=enrolment,
            course=course,
            score=Decimal("86"),
            assessed_on=assessed_on,
            actor=admin,
        )
    return CertificateRequest.objects.get(learner=learner, enrolment=enrolment)


@dataclass
class Stage:
    cert_type: CertificateType
    school_admin: object

    def learner_with_open_request(
        self, email: str, legal_name: str
    ) -> tuple[object, CertificateRequest]:
        learner = _learner(email, legal_name)
        return learner, complete_programme(learner, admin=self.school_admin)


@pytest.fixture
def stage(settings, celery_worker_process) -> Stage:
    """The real network and catalogue, their certificate types, the association's reviewer."""
    settings.MEDIA_ROOT = celery_worker_process.media_root  # serve the files the worker wrote
    for command in ("load_network", "load_catalogue", "load_recognition", "load_certificate_types"):
        call_command(command, verbosity=0)
    cert_type = CertificateType.objects.select_related("association", "programme").get(
        code=CERT_TYPE
    )
    reviewer = _verified_user(REVIEWER, "赵敏")
    reviewer.is_staff = True
    reviewer.save(update_fields=["is_staff"])
    factories.MembershipFactory(
        user=reviewer, role=Membership.Role.REVIEWER, school=None, association=cert_type.association
    )
    school_admin = factories.UserFactory(email=SCHOOL_ADMIN, name="钱进", is_staff=True)
    factories.MembershipFactory(
        user=school_admin,
        role=Membership.Role.SCHOOL_ADMIN,
        school=IndustrySchool.objects.get(slug="mechanical"),
    )
    return Stage(cert_type, school_admin)


@contextmanager
def worker_held(worker) -> Iterator[None]:
    """The worker stops taking tasks from its queues (the default one and the long-jobs one, where
    issuing and transcripts go) until the block ends; the tasks wait in Redis."""
    from ouc_portal.celery import app

    for queue in worker.queues:
        replies = app.control.cancel_consumer(
            queue, destination=[worker.hostname], reply=True, timeout=5
        )
        assert replies, f"the worker did not answer cancel_consumer:\n{worker.log()[-2000:]}"
    try:
        yield
    finally:
        for queue in worker.queues:
            replies = app.control.add_consumer(
                queue, destination=[worker.hostname], reply=True, timeout=5
            )
            assert replies, f"the worker did not answer add_consumer:\n{worker.log()[-2000:]}"


# --- What a person does in the browser -----------------------------------------------------------


def log_in(journey, base: str, email: str, *, second_factor: bool = False) -> None:
    page = journey.page
    page.goto(base + "/accounts/login/")
    page.locator("main input[name=login]").fill(email)
    page.locator("main input[name=password]").fill(factories.PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    if second_factor:
        # Staff: the password leads to the authenticator app's code (factories.STAFF_TOTP_SECRET).
        from tests.e2e.test_journey_staff import current_code

        page.locator("main input[name=code]").fill(current_code())
        with page.expect_navigation():
            page.locator("main form button[type=submit]").first.click()
    expect(page.locator(".account-nav")).to_contain_text(email)


def mark_page(page) -> None:
    """A marker on this document: it survives only if the page is never reloaded or left."""
    page.evaluate("() => { window.__sameDocument = true; }")


def same_document(page) -> bool:
    return page.evaluate("() => window.__sameDocument === true")


def download(page, link) -> tuple[str, bytes]:
    with page.expect_download() as info:
        link.click()
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def pdf_links(data: bytes) -> list[str]:
    """The URIs of the PDF's link annotations (the verification link, and the QR code's)."""
    uris = []
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            action = annotation.get("/A")
            if annotation.get("/Subtype") == "/Link" and action is not None and "/URI" in action:
                uris.append(str(action["/URI"]))
    return uris


# --- Journey 4 (and journey 5 on its pages) --------------------------------------------------------


def test_a_certificate_is_approved_issued_downloaded_verified_and_revoked(
    celery_worker_process, live_server, journey_factory, stage
):
    worker = celery_worker_process
    base = live_server.url
    _learner_row, cert_request = stage.learner_with_open_request(LEARNER, "张伟")
    cert_type = stage.cert_type

    # The reviewer, at a desk: the queue, in Chinese and back.
    reviewer = journey_factory("reviewer", viewport=DESKTOP)
    page = reviewer.page
    log_in(reviewer, base, REVIEWER, second_factor=True)
    page.locator(".main-nav").get_by_role("link", name="Review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Certificate requests")
    expect(page.locator("tbody tr")).to_have_count(1)
    reviewer.step("queue", "证书申请", "张伟")
    expect(page.get_by_role("heading", level=1)).to_have_text("Certificate requests")

    # The request: the learner's evidence, then approve.
    page.get_by_role("link", name="张伟").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("张伟")
    expect(page.locator("#enrolment-title + dl")).to_contain_text("Completed")
    reviewer.step("request")
    page.get_by_label("Note (optional; the learner sees it)").fill(
        "All courses of the programme passed."
    )
    page.get_by_role("button", name="Approve and issue").click()
    expect(page.locator(".messages")).to_contain_text("The request of 张伟 is approved")
    reviewer.step("request approved")

    # The worker issues it.
    def issued():
        cert_request.refresh_from_db()
        return cert_request.status == RequestStatus.ISSUED

    wait_for(issued, "the certificate issued by the worker", worker, timeout=60)
    certificate = Certificate.objects.get(request=cert_request)
    page.reload()
    expect(page.locator("#certificate-title + dl")).to_contain_text(certificate.serial)
    reviewer.step("request issued")

    # The learner, on a phone: My certificates (in Chinese and back), the PDF.
    learner_j = journey_factory("learner", viewport=PHONE)
    lpage = learner_j.page
    log_in(learner_j, base, LEARNER)
    lpage.locator(".main-nav").get_by_role("link", name="My certificates").click()
    expect(lpage.locator(".main-nav [aria-current=page]")).to_have_text("My certificates")
    card = lpage.locator(".card", has_text=cert_type.name_en)
    expect(card.locator(".badge")).to_have_text("Issued")
    learner_j.step("my certificates", "我的证书", "已颁发")

    filename, data = download(
        lpage,
        lpage.locator(".card", has_text=cert_type.name_en).get_by_role("link", name="Download PDF"),
    )
    assert filename == f"{certificate.serial}.pdf"
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert "张伟" in text and certificate.serial in text
    links = [uri for uri in pdf_links(data) if "/verify/" in uri]
    assert links, f"no verification link in the PDF; its links: {pdf_links(data)}"
    verify_path = urlsplit(links[0]).path
    assert verify_path == f"/verify/{certificate.verification_code}/"
    assert all(urlsplit(uri).path == verify_path for uri in links)  # the QR code's link is the same

    lpage.locator(".card", has_text=cert_type.name_en).get_by_role(
        "link", name="Share and verify"
    ).click()
    expect(lpage.locator("#verify-url")).to_have_value(links[0])
    learner_j.step("certificate")

    # A visitor, not logged in, follows the PDF's link.
    visitor = journey_factory("visitor", viewport=PHONE)
    vpage = visitor.page
    vpage.goto(base + verify_path)
    status = vpage.locator("dt:text-is('Status') + dd .badge")
    expect(status).to_have_text("Valid")
    expect(vpage.locator("main")).to_contain_text("张伟")
    expect(vpage.locator("main")).to_contain_text(certificate.serial)
    visitor.step("verify valid", chinese=False)  # shown in Chinese next, with its badge checked
    visitor.switch("zh-hans")
    expect(vpage.locator("dt:text-is('状态') + dd .badge")).to_have_text("有效")
    visitor.step("verify valid zh")
    visitor.switch("en")

    # The reviewer revokes it: a reason is required.
    page.goto(base + "/review/certificates/")
    row = page.locator("tbody tr", has_text=certificate.serial)
    expect(row).to_contain_text("张伟")
    reviewer.step("certificates issued")
    row.get_by_role("link", name=f"Revoke {certificate.serial}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(certificate.serial)
    reviewer.step("revoke")
    page.get_by_role("button", name="Revoke the certificate").click()
    expect(page.locator("main")).to_contain_text("Give a reason for the revocation.")
    reviewer.step("revoke without a reason", chinese=False)
    # In Chinese: the switch shows the revocation page again; the same refusal, in Chinese.
    reviewer.switch("zh-hans")
    page.get_by_role("button", name=zh("Revoke the certificate")).click()
    expect(page.locator("main")).to_contain_text(zh("Give a reason for the revocation."))
    reviewer.step("revoke without a reason zh")
    reviewer.switch("en")
    reason = "Issued against the wrong enrolment"
    page.get_by_label("Reason for the revocation (the learner sees it)").fill(reason)
    page.get_by_role("button", name="Revoke the certificate").click()
    expect(page.locator(".messages")).to_contain_text(
        f"Certificate {certificate.serial} is revoked."
    )
    expect(
        page.locator("tbody tr", has_text=certificate.serial).locator(".badge").first
    ).to_have_text("Revoked")
    reviewer.step("revoked")

    # The visitor reloads: revoked, since when, and why.
    certificate.refresh_from_db()
    revoked_on = timezone.localtime(certificate.revoked_at).date().isoformat()
    vpage.reload()
    expect(status).to_have_text("Revoked")
    expect(vpage.locator("dt:text-is('Revoked on') + dd")).to_have_text(revoked_on)
    expect(vpage.locator("dt:text-is('Reason for revocation') + dd")).to_have_text(reason)
    expect(vpage.locator("main [role=status]")).to_contain_text(revoked_on)
    expect(vpage.locator("main [role=status]")).to_contain_text(reason)
    visitor.step("verify revoked", chinese=False)  # shown in Chinese next, with its badge checked
    visitor.switch("zh-hans")
    expect(vpage.locator("dt:text-is('状态') + dd .badge")).to_have_text("已撤销")
    expect(vpage.locator("main [role=status]")).to_contain_text(revoked_on)
    visitor.step("verify revoked zh")
    visitor.switch("en")
    expect(status).to_have_text("Revoked")

    # The learner is told too: the certificate page says since when and why.
    lpage.goto(base + "/me/certificates/")
    expect(card.locator(".badge")).to_have_text("Revoked")
    card.get_by_role("link", name=cert_type.name_en).click()
    expect(lpage.locator("main [role=status]")).to_have_text(f"Revoked on {revoked_on}: {reason}")
    learner_j.step("certificate revoked")


# --- Long work shows progress ---------------------------------------------------------------------


def test_a_bulk_approval_follows_the_worker_from_queued_to_ready(
    celery_worker_process, live_server, journey_factory, stage
):
    worker = celery_worker_process
    base = live_server.url
    requests = [
        stage.learner_with_open_request(f"{login}@baic.example", name)[1] for name, login in BATCH
    ]

    reviewer = journey_factory("reviewer", viewport=DESKTOP)
    page = reviewer.page
    log_in(reviewer, base, REVIEWER, second_factor=True)
    page.goto(base + "/review/")
    expect(page.locator("tbody tr")).to_have_count(len(BATCH))
    n = len(BATCH)
    for name, _login in BATCH:
        page.get_by_label(f"Select the request of {name}").check()
    reviewer.step("queue, requests ticked", chinese=False)  # a reload would untick them
    # In Chinese first: the switch reloads the queue, so the same rows are ticked again there, and
    # the confirmation is asked in Chinese. Its address answers a POST only: its switch goes back
    # to the queue, where the rows are ticked once more and confirmed in English.
    queue_path = "/review/"
    reviewer.switch("zh-hans", lands_on=queue_path)
    for name, _login in BATCH:
        page.get_by_label(zh("Select the request of %(name)s") % {"name": name}).check()
    reviewer.step("queue, requests ticked zh")
    page.get_by_role("button", name=zh("Approve selected…")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        zh_plural("Approve %(n)s request?", "Approve %(n)s requests?", n) % {"n": n}
    )
    reviewer.step("bulk confirmation zh")
    # The switch lands where Cancel goes: the queue, as it was filtered.
    back = page.get_by_role("main").get_by_role("link", name=zh("Cancel")).get_attribute("href")
    assert urlsplit(back).path == queue_path
    reviewer.switch("en", lands_on=back)
    for name, _login in BATCH:
        page.get_by_label(f"Select the request of {name}").check()
    page.get_by_role("button", name="Approve selected…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Approve {n} requests?")
    reviewer.step("bulk confirmation", chinese=False)  # shown in Chinese above

    badge = page.locator("[data-field=state-badge]")
    label = page.locator("[data-field=label]")
    with worker_held(worker):
        page.get_by_role("button", name=f"Approve {n} requests").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Batch approval")
        expect(badge).to_have_text("Queued")
        expect(label).to_have_text(f"Queued: {n} certificates waiting to be issued.")
        expect(page.locator("[data-count=waiting]")).to_have_text(str(n))
        reviewer.step("batch queued", chinese=False)  # in Chinese next, while the worker is held
        # The batch page can be shown again: in Chinese, still queued, in Chinese words.
        reviewer.switch("zh-hans")
        expect(badge).to_have_text(zh("Queued"))
        expect(label).to_have_text(
            zh_plural(
                "Queued: %(n)d certificate waiting to be issued.",
                "Queued: %(n)d certificates waiting to be issued.",
                n,
            )
            % {"n": n}
        )
        reviewer.step("batch queued zh")
        reviewer.switch("en")
        mark_page(page)
        page.wait_for_timeout(2500)  # one poll of progress.json at least: still queued
        expect(badge).to_have_text("Queued")

    # The worker is let go: the page follows it by itself, with no reload.
    expect(badge).to_have_text("Ready", timeout=PROGRESS)
    expect(label).to_have_text(f"Ready: all {n} certificates issued.")
    expect(page.locator("[data-count=issued]")).to_have_text(str(n))
    expect(page.locator("[data-count=waiting]")).to_have_text("0")
    expect(page.locator("#batch-progress")).to_have_attribute("value", str(n))
    assert same_document(page), "the batch page was reloaded or left: it must update itself"
    # Ready, the page may be reloaded: it is shown in Chinese too.
    reviewer.step(
        "batch ready",
        zh("Ready"),
        zh_plural(
            "Ready: %(n)d certificate issued.", "Ready: all %(n)d certificates issued.", n
        )
        % {"n": n},
    )
    assert Certificate.objects.filter(request__in=requests).count() == len(BATCH)
    assert worker.process.poll() is None


def test_a_transcript_follows_the_worker_from_queued_to_ready(
    celery_worker_process, live_server, journey_factory, stage
):
    worker = celery_worker_process
    base = live_server.url
    learner, _request = stage.learner_with_open_request(LEARNER, "张伟")

    learner_j = journey_factory("learner", viewport=PHONE)
    page = learner_j.page
    log_in(learner_j, base, LEARNER)
    page.goto(base + "/me/certificates/")
    learner_j.step("my certificates")

    state = page.locator("#transcript-state")
    with worker_held(worker):
        page.get_by_role("button", name="Make a transcript now").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Transcript")
        expect(state).to_have_text("Queued")
        expect(page.locator("main")).to_contain_text("This page updates itself when it is ready.")
        learner_j.step("transcript queued", chinese=False)  # in Chinese next, the worker held
        learner_j.switch("zh-hans")
        expect(state).to_have_text(zh("Queued"))
        learner_j.step("transcript queued zh")
        learner_j.switch("en")
        expect(state).to_have_text("Queued")
        page.wait_for_timeout(1500)  # one poll of status.json at least: still queued
        expect(state).to_have_text("Queued")

    # The worker is let go: the page notices by itself (poll-status.js reloads it once, when ready).
    pdf_link = page.get_by_role("link", name="Download PDF")
    expect(pdf_link).to_be_visible(timeout=PROGRESS)
    expect(state).to_have_text("Ready")
    learner_j.step("transcript ready")
    transcript = Transcript.objects.get(learner=learner)
    assert transcript.status == Transcript.Status.READY
    filename, data = download(page, pdf_link)
    assert filename.endswith(".pdf") and data.startswith(b"%PDF")
    assert "张伟" in pdf_text(data)
    assert (
        page.locator("#verify-url")
        .input_value()
        .endswith(f"/verify/{transcript.verification_code}/")
    )
