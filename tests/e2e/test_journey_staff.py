"""Issue 6, journeys 2 and 3 (and journey 5 on their pages), in a real browser.

Journey 2: a school administrator logs in with a password and an authenticator code, accepts a
learner's application, uploads a results file that is refused (the bad row named by its line), then
the corrected file, and sees the learner complete Numerical Control Technology.

Journey 3: the learner submits a CNC lathe operator certificate with its PDF (one refused attempt
first: the messages sit by their fields and what was typed stays), a credit-bank officer accredits
it against VQ-CNC-LATHE-5 and applies rule NCT-RC-CNC, and the learner's audit shows NC201 exempted
and the ledger the credits that moved.

Journey 5 on these pages: the on-page language switch turns the queue, the results upload and the
audit into Chinese and back.

Everything after the setup goes through the pages; the ORM only reads what the pages did.
"""

from __future__ import annotations

import datetime
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from enrolment import services as enrolment_services
from enrolment.models import Enrolment, EnrolmentStatus, Intake
from schools.models import IndustrySchool, Membership
from tests import factories
from tests.e2e.conftest import DESKTOP, PHONE, retype, typed, zh

DATA = Path(__file__).resolve().parent / "data"
LEARNER_EMAIL = "wang.fang@example.org"  # the address the results files name
ADMIN_EMAIL = "li.wei@mechanical.example.org"
OFFICER_EMAIL = "zhao.min@creditbank.example.org"
NCT = "numerical-control-technology"

pytestmark = pytest.mark.django_db(transaction=True)


# --- Setup: the real network and catalogue, and the people ------------------------------------


def load_world() -> None:
    for command in ("load_network", "load_catalogue", "load_recognition"):
        call_command(command, verbosity=0)


def person(email: str, **fields):
    """A user who can log in with the test password: allauth wants a verified address."""
    user = factories.UserFactory(email=email, **fields)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def learner_who_applied() -> Enrolment:
    """王芳, a CNC machinist at BAIC with a finished profile, applied to the open NCT intake."""
    learner = factories.LearnerFactory(
        user=person(LEARNER_EMAIL, name="Wang Fang"), legal_name="王芳"
    )
    intake = next(
        i for i in Intake.objects.filter(programme__slug=NCT) if i.is_open(timezone.now())
    )
    outcome = enrolment_services.enrolment_apply(learner=learner, intake=intake)
    assert outcome.enrolment.status == EnrolmentStatus.APPLIED
    return outcome.enrolment


def school_admin():
    admin = person(ADMIN_EMAIL, name="Li Wei", is_staff=True)
    factories.MembershipFactory(
        user=admin,
        role=Membership.Role.SCHOOL_ADMIN,
        school=IndustrySchool.objects.get(slug="mechanical"),
    )
    return admin


def credit_officer():
    officer = person(OFFICER_EMAIL, name="Zhao Min", is_staff=True)
    factories.MembershipFactory(
        user=officer, role=Membership.Role.CREDIT_OFFICER, school=None, association=None
    )
    return officer


def current_code(secret: str = factories.STAFF_TOTP_SECRET) -> str:
    """What the authenticator app shows now (RFC 6238, computed as allauth checks it).

    Every staff member the factories make has an app with ``factories.STAFF_TOTP_SECRET``.
    allauth accepts the current time step only (no tolerance): like a person who sees the code
    about to change, wait for the next one rather than type one that expires on the way.
    """
    from allauth.mfa import app_settings

    period = app_settings.TOTP_PERIOD
    left = period - time.time() % period
    if left < 5:
        time.sleep(left + 0.1)
    return factories.totp_code(secret)


# --- Steps every journey takes ------------------------------------------------------------------


def log_in(j, base_url: str, email: str) -> None:
    page = j.page
    page.goto(base_url + "/accounts/login/")
    j.step("log in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign In").click()


def field(page, label: str):
    """The ``.field`` wrapper around a labelled control: its label, control, help and error."""
    return page.locator(".field").filter(has=page.get_by_label(label))


def show_status(page, status: str) -> None:
    """Filter the application queue by one status."""
    page.get_by_label("Status").select_option(label=status)
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.get_by_label("Status").locator("option:checked")).to_have_text(status)


# --- Journey 2 ----------------------------------------------------------------------------------


def test_school_administrator_admits_records_results_and_sees_the_learner_complete(
    live_server, journey_factory, eager
):
    load_world()
    enrolment = learner_who_applied()
    school_admin()

    j = journey_factory("school-admin", viewport=DESKTOP)
    page = j.page
    log_in(j, live_server.url, ADMIN_EMAIL)
    # The password alone is not enough: the second factor is asked for.
    expect(page.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
    j.step("second factor")
    page.get_by_label("Code").fill(current_code())
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    page.goto(live_server.url + "/manage/")
    expect(page.get_by_role("heading", level=1)).to_have_text("OUC School of Mechanical Industry")
    j.step("school dashboard")
    page.get_by_role("navigation", name="School administration").get_by_role(
        "link", name="Applications"
    ).click()
    row = page.get_by_role("row").filter(has_text=LEARNER_EMAIL)
    expect(row).to_contain_text("Applied")
    j.step("application queue", "报名")

    row.get_by_role("button", name="Accept").click()
    expect(page.locator(".messages")).to_contain_text("王芳: accepted.")
    expect(page.locator("main")).to_contain_text("No application is waiting for a decision.")
    j.step("application accepted")
    show_status(page, "Accepted")
    row = page.get_by_role("row").filter(has_text=LEARNER_EMAIL)
    expect(row).to_contain_text("Accepted")
    row.get_by_role("button", name="Start studying").click()
    expect(page.locator(".messages")).to_contain_text("王芳: now studying.")
    show_status(page, "Studying")
    row = page.get_by_role("row").filter(has_text=LEARNER_EMAIL)
    expect(row).to_contain_text("Studying")
    j.step("learner studying")

    row.get_by_role("link", name="王芳").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("王芳")
    j.step("enrolment detail")
    page.get_by_role("link", name="Record results for this intake").click()
    expect(page.get_by_role("heading", name="Upload a results file (CSV)")).to_be_visible()
    j.step("results page", "上传成绩文件（CSV）")
    results_path = urlsplit(page.url).path

    # A file with one bad row: nothing is saved, the row is named by its line.
    page.get_by_label("Results file (CSV, UTF-8)").set_input_files(
        DATA / "results-nct-one-bad-row.csv"
    )
    page.get_by_role("button", name="Upload and record").click()
    expect(page.get_by_role("alert").first).to_contain_text("Nothing was saved.")
    problems = page.get_by_role("table", name="Rows with a problem")
    expect(problems.get_by_role("row")).to_have_count(2)  # the header and the one bad row
    bad = problems.get_by_role("row").nth(1)
    expect(bad.get_by_role("cell").nth(0)).to_have_text("4")
    expect(bad.get_by_role("cell").nth(1)).to_have_text("score '8O' is not a number")
    j.step("results file refused", chinese=False)
    # In Chinese: the upload's address takes no GET, so the switch shows the results page again,
    # where the same file is refused in Chinese, by the same line.
    j.switch("zh-hans", lands_on=results_path)
    page.get_by_label(zh("Results file (CSV, UTF-8)")).set_input_files(
        DATA / "results-nct-one-bad-row.csv"
    )
    page.get_by_role("button", name=zh("Upload and record")).click()
    expect(page.get_by_role("alert").first).to_contain_text(zh("Nothing was saved."))
    problems = page.get_by_role("table", name=zh("Rows with a problem"))
    expect(problems.get_by_role("row")).to_have_count(2)
    bad = problems.get_by_role("row").nth(1)
    expect(bad.get_by_role("cell").nth(0)).to_have_text("4")
    expect(bad.get_by_role("cell").nth(1)).to_have_text(
        zh("score %(raw)r is not a number") % {"raw": "8O"}
    )
    j.step("results file refused zh")
    j.switch("en", lands_on=results_path)
    assert not enrolment.results.exists()

    # The corrected file: every course the programme requires, passed.
    page.get_by_label("Results file (CSV, UTF-8)").set_input_files(
        DATA / "results-nct-all-courses.csv"
    )
    page.get_by_role("button", name="Upload and record").click()
    expect(page.locator(".messages")).to_contain_text("12 recorded, 0 already recorded.")
    j.step("results recorded")

    # The credit bank's audit found every requirement met and completed the enrolment.
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.COMPLETED
    assert enrolment.results.filter(passed=True).count() == 12
    page.get_by_role("link", name="Applications").first.click()
    show_status(page, "Completed")
    row = page.get_by_role("row").filter(has_text=LEARNER_EMAIL)
    expect(row).to_contain_text("Completed")
    row.get_by_role("link", name="王芳").click()
    expect(page.locator("main .badge").first).to_have_text("Completed")
    history = page.get_by_role("table").filter(has_text="The portal")
    expect(history).to_contain_text("The credit-bank audit found every requirement met.")
    j.step("enrolment completed")
    page.get_by_role("link", name="Credit-bank audit").click()
    expect(page.locator("main")).to_contain_text("Every requirement is met.")
    j.step("credit-bank audit complete")


# --- Journey 3 ----------------------------------------------------------------------------------


def test_learner_certificate_is_accredited_and_exempts_a_course(
    live_server, journey_factory, eager, settings, tmp_path
):
    from creditbank.models import Conversion, EntryKind, LearningOutcome, LedgerEntry

    settings.MEDIA_ROOT = tmp_path / "media"
    load_world()
    enrolment = learner_who_applied()
    admin = school_admin()
    enrolment_services.enrolment_accept(enrolment=enrolment, actor=admin)
    credit_officer()

    # The learner, on a phone, brings the certificate.
    learner = journey_factory("learner", viewport=PHONE)
    page = learner.page
    log_in(learner, live_server.url, LEARNER_EMAIL)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.goto(live_server.url + "/me/credits/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My credit bank")
    learner.step("my credit bank")
    page.get_by_role("link", name="Submit a learning outcome").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Submit a learning outcome")
    learner.step("outcome form")

    # First attempt: a date in the future and notes saved under a .pdf name.
    next_month = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    page.get_by_label("Kind").select_option(label="Vocational qualification certificate")
    page.get_by_label("Title").fill("CNC Lathe Operator (senior)")
    page.get_by_label("Issuing partner association").select_option(
        label="Education Development Center of Mechanical Industry"
    )
    page.get_by_label("Achieved on").fill(next_month)
    page.get_by_label("Level").select_option("5")
    page.get_by_label("Grade").fill("B")
    page.get_by_label("Certificate number").fill("MIEDC-2024-051873")
    page.get_by_label("Evidence files").set_input_files(DATA / "certificate-notes-not-a-pdf.pdf")
    page.get_by_role("button", name="Submit for accreditation").click()

    achieved = field(page, "Achieved on")
    expect(achieved.locator(".error")).to_have_text("The date achieved is in the future.")
    expect(page.get_by_label("Achieved on")).to_have_attribute("aria-invalid", "true")
    evidence = field(page, "Evidence files")
    expect(evidence.locator(".error")).to_contain_text(
        "certificate-notes-not-a-pdf.pdf is not a PDF, JPEG or PNG file"
    )
    # What was typed is still there.
    expect(page.get_by_label("Title")).to_have_value("CNC Lathe Operator (senior)")
    expect(page.get_by_label("Achieved on")).to_have_value(next_month)
    expect(page.get_by_label("Grade")).to_have_value("B")
    expect(page.get_by_label("Certificate number")).to_have_value("MIEDC-2024-051873")
    expect(page.get_by_label("Level")).to_have_value("5")
    expect(page.get_by_label("Kind")).to_have_value("vocational")
    expect(page.get_by_label("Issuing partner association").locator("option:checked")).to_have_text(
        "Education Development Center of Mechanical Industry"
    )
    learner.step("outcome refused", chinese=False)
    # In Chinese: the switch reloads the empty form, the same answers and file are given again,
    # and both refusals are Chinese, beside their fields, with every answer kept.
    form = page.get_by_role("main").locator("form")
    kept = typed(form)
    learner.switch("zh-hans")
    retype(form, kept)
    page.get_by_label(zh("Evidence files")).set_input_files(DATA / "certificate-notes-not-a-pdf.pdf")
    page.get_by_role("button", name=zh("Submit for accreditation")).click()
    expect(field(page, zh("Achieved on")).locator(".error")).to_have_text(
        zh("The date achieved is in the future.")
    )
    expect(field(page, zh("Evidence files")).locator(".error")).to_contain_text(
        zh("%(name)s is not a PDF, JPEG or PNG file (its content says otherwise, whatever its name).")
        % {"name": "certificate-notes-not-a-pdf.pdf"}
    )
    assert typed(form) == kept, "the refused Chinese form lost what was typed"
    learner.step("outcome refused zh")
    learner.switch("en")
    retype(form, kept)
    assert not LearningOutcome.objects.filter(kind="vocational").exists()

    page.get_by_label("Achieved on").fill("2024-05-17")
    page.get_by_label("Evidence files").set_input_files(DATA / "cnc-lathe-operator-certificate.pdf")
    page.get_by_role("button", name="Submit for accreditation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("CNC Lathe Operator (senior)")
    learner.step("outcome submitted")
    outcome = LearningOutcome.objects.get(kind="vocational")
    assert (
        outcome.status == "submitted" and outcome.evidence.get().content_type == "application/pdf"
    )

    # A credit-bank officer, at a desk, in another browser.
    officer = journey_factory("officer", viewport=DESKTOP)
    desk = officer.page
    log_in(officer, live_server.url, OFFICER_EMAIL)
    # Staff: the code of the authenticator app after the password.
    expect(desk.get_by_role("heading", name="Two-Factor Authentication")).to_be_visible()
    desk.get_by_label("Code").fill(current_code())
    desk.get_by_role("button", name="Sign In").click()
    expect(desk.get_by_role("button", name="Log out")).to_be_visible()
    desk.goto(live_server.url + "/credit-bank/")
    officer.step("outcomes to review")
    desk.get_by_role("link", name="CNC Lathe Operator (senior)").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("CNC Lathe Operator (senior)")
    expect(desk.get_by_role("link", name="cnc-lathe-operator-certificate.pdf")).to_be_visible()
    officer.step("outcome to review")
    desk.get_by_role("button", name="Start review").click()
    expect(desk.locator(".messages")).to_contain_text(
        "CNC Lathe Operator (senior) is now under review."
    )
    officer.step("review started")

    accredit = desk.locator("form").filter(has=desk.get_by_role("heading", name="Accredit"))
    accredit.get_by_label("Recognition standard").select_option(
        label="VQ-CNC-LATHE-5 v1 — CNC lathe operator, vocational qualification (senior) (8.0)"
    )
    accredit.get_by_label("Why the outcome meets the standard (the learner sees it)").fill(
        "Senior CNC lathe operator certificate of the Education Development Center of Mechanical "
        "Industry, number checked with the issuer."
    )
    accredit.get_by_role("button", name="Accredit").click()
    expect(desk.locator(".messages")).to_contain_text(
        "CNC Lathe Operator (senior) is accredited; its credits are in the learner's account."
    )
    officer.step("outcome accredited")

    desk.get_by_role("link", name="Apply the learner's credits to a programme").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("王芳")
    officer.step("learner desk")
    convert = desk.locator("form").filter(
        has=desk.get_by_role("heading", name="Apply a conversion")
    )
    convert.get_by_label("Accredited outcome").select_option(
        label="CNC Lathe Operator (senior) (8.0 credits left)"
    )
    rule = convert.get_by_label("Conversion rule in force")
    rule.select_option(label=rule.locator("option", has_text="NCT-RC-CNC").inner_text())
    convert.get_by_label("Course exempted").select_option(label="NC201 CNC Programming (4.0)")
    convert.get_by_role("button", name="Apply the conversion").click()
    expect(desk.locator(".messages")).to_contain_text(
        "NC201 is exempted in ME-NCT under NCT-RC-CNC v1."
    )
    officer.step("conversion applied")

    conversion = Conversion.objects.get()
    assert (conversion.course.code, conversion.rule.code, conversion.credits) == (
        "NC201",
        "NCT-RC-CNC",
        Decimal("4.0"),
    )
    entries = list(LedgerEntry.objects.filter(outcome=outcome).order_by("seq"))
    assert [(e.kind, e.amount) for e in entries] == [
        (EntryKind.ACCREDITATION, Decimal("8.0")),
        (EntryKind.CONVERSION, Decimal("-4.0")),
    ]

    # Back on the phone: the ledger shows both movements, the audit the exempted course.
    page.goto(live_server.url + "/me/credits/")
    ledger = page.locator("section[aria-labelledby=ledger]")
    shown = {
        EntryKind.ACCREDITATION: ("+8.0", "Accredited under VQ-CNC-LATHE-5 v1"),
        EntryKind.CONVERSION: ("−4.0", "NC201 exempted under NCT-RC-CNC v1"),
    }
    for entry in entries:
        line = ledger.get_by_role("row").filter(
            has=page.get_by_role("cell", name=str(entry.seq), exact=True)
        )
        for text in shown[entry.kind]:
            expect(line).to_contain_text(text)
    expect(page.locator("dl.facts")).to_contain_text("4.0 credits")  # the balance: 8 in, 4 out
    learner.step("ledger with the credits moved")
    page.get_by_role("link", name="Audit", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Programme audit: Numerical Control Technology"
    )
    nc201 = page.get_by_role("row").filter(has_text="NC201")
    expect(nc201).to_contain_text("Exempted")
    expect(nc201).to_contain_text("rule NCT-RC-CNC v1")
    expect(nc201).to_contain_text(f"entry #{entries[1].seq}")
    exempted = page.locator("dl.facts").first.locator("div").filter(has_text="Exempted")
    expect(exempted.locator("dd")).to_have_text("4.0")
    learner.step("audit with NC201 exempted", "免修免考")
