"""Journey 1: a visitor on a phone finds a programme, signs up, confirms, finishes the profile, applies.

Journey 5 for the same pages: along the way, each kind of page (catalogue, programme, sign-up,
profile, application, dashboard) is switched to Chinese with the header's own language form (a
select and a button), checked as a page of its own, and switched back.

Everything goes through the real UI of the live server: fields found by their labels, buttons and
links by their names. The ORM is only read, at the end, to assert that what the pages said was stored.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from enrolment.models import Enrolment, EnrolmentStatus
from tests.e2e.conftest import retype, typed, zh

EMAIL = "li.ming@example.org"
PASSWORD = "Lathe-and-mill-2025"
PROGRAMME = "Numerical Control Technology"
APPLIED = "Applied, awaiting approval"
CONSENT = "I have read and agree to the privacy notice"


def field(page, label: str):
    """The control labelled exactly ``label`` (a required field's label ends in an aria-hidden *)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}(\s*\*)?$"))


@pytest.mark.django_db(transaction=True)
def test_visitor_finds_a_programme_signs_up_and_applies(
    live_server, journey_factory, mailoutbox, eager
):
    for command in ("load_network", "load_catalogue"):
        call_command(command, verbosity=0)
    j = journey_factory("visitor-phone")
    page = j.page

    # --- Home, then the catalogue: search for 数控 ---------------------------------------------
    page.goto(live_server.url + "/")
    j.step("home")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Programmes").click()
    field(page, "Search").fill("数控")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=PROGRAMME, exact=True)).to_be_visible()
    # A search alone keeps the filters folded: on a phone they would push the results off screen.
    expect(page.locator("details.filters__more[open]")).to_have_count(0)
    j.step("catalogue search", "专业", "数控技术")
    expect(field(page, "Search")).to_have_value("数控")

    # --- The programme page and its open intake -----------------------------------------------
    page.get_by_role("link", name=PROGRAMME, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PROGRAMME)
    j.step("programme", "数控技术", "报名")
    page.get_by_role("link", name="Apply", exact=True).click()

    # --- Not signed in: the log-in page offers sign-up, and both keep where the visitor was going
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=(/|%2F)intakes"))
    j.step("log in or sign up")
    page.get_by_role("main").get_by_role("link", name="sign up").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/\?next=(/|%2F)intakes"))
    j.step("sign up", "注册")

    # A refused form keeps what was typed and says why next to the field, tied to it.
    signup = urlsplit(page.url)
    signup = f"{signup.path}?{signup.query}"  # the next travels in the form when it is posted
    field(page, "Email").fill(EMAIL)
    field(page, "Password").fill(PASSWORD)
    field(page, "Password (again)").fill(PASSWORD + "x")
    page.get_by_role("button", name="Sign Up").click()
    again = field(page, "Password (again)")
    error = page.locator(".field", has=again).locator(".error")
    expect(error).to_have_text("You must type the same password each time.")
    expect(again).to_have_attribute("aria-invalid", "true")
    expect(again).to_have_attribute(
        "aria-describedby", re.compile(r"(^|\s)id_password2_error(\s|$)")
    )
    expect(error).to_have_attribute("id", "id_password2_error")
    expect(field(page, "Email")).to_have_value(EMAIL)
    j.step("sign up refused", chinese=False)
    # The same refusal in Chinese. The switch reloads the sign-up page, so the same mistake is
    # made again there: the message is Chinese, beside its field, and the email is kept.
    form = page.get_by_role("main").locator("form")
    kept = typed(form)
    j.switch("zh-hans", lands_on=signup)
    retype(form, kept)
    field(page, zh("Password")).fill(PASSWORD)
    field(page, zh("Password (again)")).fill(PASSWORD + "x")
    page.get_by_role("button", name=zh("Sign Up")).click()
    again = field(page, zh("Password (again)"))
    expect(page.locator(".field", has=again).locator(".error")).to_have_text(
        zh("You must type the same password each time.")
    )
    expect(again).to_have_attribute("aria-invalid", "true")
    expect(field(page, zh("Email"))).to_have_value(EMAIL)
    j.step("sign up refused zh")
    j.switch("en", lands_on=signup)
    # Passwords are never sent back to the browser: they are typed again.
    field(page, "Email").fill(EMAIL)
    field(page, "Password").fill(PASSWORD)
    field(page, "Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify Your Email Address")
    j.step("check your email")

    # --- The confirmation email: open its link, confirm -----------------------------------------
    confirmation = next(m for m in mailoutbox if "/accounts/confirm-email/" in m.body)
    assert confirmation.to == [EMAIL]
    # The link's origin is the configured site's (https in production); the path is the key.
    path = re.search(r"/accounts/confirm-email/[^/\s]+/", confirmation.body).group(0)
    page.goto(live_server.url + path)
    j.step("confirm email")
    page.get_by_role("button", name="Confirm").click()

    # Signed in by the confirmation and sent on toward the intake, which first wants a profile.
    expect(page).to_have_url(re.compile(r"/me/profile/\?next=(/|%2F)intakes"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Learner profile")
    expect(page.get_by_role("status")).to_contain_text("Finish your learner profile first")
    j.step("profile", "学员资料", "手机号码")

    # --- The profile: refused once (a phone number with letters), then saved --------------------
    field(page, "Legal name").fill("李明")
    field(page, "Mobile phone").fill("138-abc")
    field(page, "Employer").fill("BAIC Motor")
    field(page, "Job title").fill("CNC machinist")
    field(page, "Industry").select_option(label="Mechanical industries")
    field(page, "Province").select_option(label="Beijing")
    field(page, "Learning centre").select_option(
        label="BAIC Learning Centre of the OUC Beijing Experimental School"
    )
    page.get_by_label(CONSENT).check()
    page.get_by_role("button", name="Save profile").click()
    phone = field(page, "Mobile phone")
    phone_error = page.locator(".field", has=phone).locator(".error")
    expect(phone_error).to_have_text("Enter a phone number of 7 to 15 digits, e.g. 13800138000.")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_attribute("aria-describedby", re.compile(r"(^|\s)id_phone_error(\s|$)"))
    expect(phone_error).to_have_attribute("id", "id_phone_error")
    expect(phone).to_have_value("138-abc")
    expect(field(page, "Legal name")).to_have_value("李明")
    expect(field(page, "Employer")).to_have_value("BAIC Motor")
    expect(field(page, "Job title")).to_have_value("CNC machinist")
    expect(field(page, "Industry").locator("option:checked")).to_have_text("Mechanical industries")
    expect(field(page, "Province").locator("option:checked")).to_have_text("Beijing")
    expect(field(page, "Learning centre").locator("option:checked")).to_contain_text(
        "BAIC Learning Centre"
    )
    expect(page.get_by_label(CONSENT)).to_be_checked()
    j.step("profile refused", chinese=False)
    # In Chinese: the switch reloads the empty profile, the same answers are given again, and the
    # refusal is Chinese, beside the phone number, with every answer kept.
    form = page.get_by_role("main").locator("form")
    kept = typed(form)
    j.switch("zh-hans")
    retype(form, kept)
    page.get_by_role("button", name=zh("Save profile")).click()
    phone = field(page, zh("Mobile phone"))
    expect(page.locator(".field", has=phone).locator(".error")).to_have_text(
        zh("Enter a phone number of 7 to 15 digits, e.g. 13800138000.")
    )
    expect(phone).to_have_attribute("aria-invalid", "true")
    assert typed(form) == kept, "the refused Chinese form lost what was typed"
    j.step("profile refused zh")
    j.switch("en")
    retype(form, kept)
    phone = field(page, "Mobile phone")
    phone.fill("138 0013 8000")
    page.get_by_role("button", name="Save profile").click()

    # --- Apply: the confirmation page, then the application -----------------------------------
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your application")
    expect(page.get_by_role("main")).to_contain_text(PROGRAMME)
    expect(page.get_by_role("main")).to_contain_text("The school reviews every application")
    j.step("confirm application", "确认报名", "数控技术")
    page.get_by_role("button", name="Confirm application").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PROGRAMME)
    expect(page.get_by_role("status")).to_contain_text("Application received")
    expect(page.get_by_role("main")).to_contain_text(APPLIED)
    j.step("application", "数控技术", "已报名，待审核")

    # --- The learner's dashboard shows the application and its state ----------------------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My learning").click()
    card = page.get_by_role("main").get_by_role("listitem").filter(has_text=PROGRAMME)
    expect(card).to_contain_text(APPLIED)
    j.step("dashboard", "我的学习", "数控技术", "已报名，待审核")

    # What the pages said is what was stored, and the emails went out (Celery ran in-process).
    enrolment = Enrolment.objects.select_related("learner", "intake__programme").get(
        learner__user__email=EMAIL
    )
    assert enrolment.status == EnrolmentStatus.APPLIED
    assert enrolment.intake.programme.slug == "numerical-control-technology"
    assert enrolment.intake.is_open()
    learner = enrolment.learner
    assert (learner.legal_name, learner.phone, learner.employer) == (
        "李明",
        "13800138000",
        "BAIC Motor",
    )
    assert learner.privacy_consent_at is not None
    subjects = [m.subject for m in mailoutbox if m.to == [EMAIL]]
    assert any("Confirm Your Email" in s for s in subjects), subjects
    assert any(s.startswith("Welcome") for s in subjects), subjects
    assert any(PROGRAMME in s and APPLIED in s for s in subjects), subjects
