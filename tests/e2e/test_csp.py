"""The Content Security Policy in a real browser: the pages it governs still work, and Chromium
reports no violation on the home page, the catalogue, a learner's pages or the API docs.

A policy that a page breaks shows only in a browser: the server sends the header either way.
Chromium reports every blocked script, style or image twice, as a ``securitypolicyviolation``
event and as a console error starting "Refused to"; both are collected.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

# Runs before any script of the page: devtools injects it, so the policy does not block it.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.mark.django_db(transaction=True)
def test_no_page_breaks_the_policy(live_server, chromium, world):
    client = Client()
    client.force_login(world.learner.user)
    context = chromium.new_context(locale="en-GB")
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
          "url": live_server.url}]
    )  # fmt: skip
    context.add_init_script(LISTEN)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)

    pages = {
        "home": reverse("schools:home"),
        "catalogue": reverse("enrolment:programme_list"),
        "programme": world.enrolment.intake.programme.get_absolute_url(),
        "learner dashboard": reverse("enrolment:my_dashboard"),
        "credit bank": reverse("credits:home"),
        "api docs": "/api/docs/",
    }
    for name, path in pages.items():
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, name
        assert "'self'" in (response.header_value("content-security-policy") or ""), name
        page.wait_for_load_state("load")
        assert page.evaluate("window.__csp") == [], name
        if name == "api docs":
            # Swagger UI ran (its inline script, by nonce) and drew the schema's operations; one
            # opened, with its parameters, models and "Try it out", is the rest of its markup.
            operation = page.locator(".swagger-ui .opblock").first
            expect(operation).to_be_visible(timeout=15_000)
            operation.locator(".opblock-summary").click()
            page.get_by_role("button", name="Try it out").first.click()
            expect(page.get_by_role("button", name="Execute").first).to_be_visible()
            page.get_by_role("button", name="Execute").first.click()
            expect(page.locator(".swagger-ui .responses-table.live-responses-table")).to_be_visible()
            page.locator(".swagger-ui section.models h4").click()
        assert page.evaluate("window.__csp") == [], name
    assert console == []
    context.close()
