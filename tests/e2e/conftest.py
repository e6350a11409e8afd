"""Real-browser journeys: Debian's Chromium driven by Playwright against pytest-django's live server.

Every journey step goes through ``Journey.step``: a screenshot under ``test-artifacts/e2e/``
(ignored by git), and the quality every page must meet, checked on the page as rendered:

* axe-core (``node_modules/axe-core``, injected into the page): no serious or critical violation;
* no horizontal scroll at the viewport's width;
* touch targets (buttons, form controls, navigation links) at least 44 by 44 CSS pixels;
* the rendered HTML is kept, and the Nu HTML Checker (``node_modules/vnu-jar``, run with the
  machine's Java) must report no error on any page of the journey (checked once, at its end).

The tools are installed by ``.ci/run`` (Debian's chromium and a Java runtime, then ``npm ci``). A
run promised the real stack fails when one is missing; a bare ``make test`` skips the journeys
and says why, like the other ``needs_services`` tests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import translation
from django.utils.translation import gettext, ngettext, pgettext

from tests.conftest import SERVICES_PROMISED

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
AXE_JS = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = REPO_ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
MIN_TARGET = 44


def _missing_tools() -> list[str]:
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    if not AXE_JS.exists() or not VNU_JAR.exists():
        missing.append("axe-core and vnu-jar in node_modules (npm ci)")
    if shutil.which("java") is None:
        missing.append("Java for the Nu HTML Checker (apt-get install default-jre-headless)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("Playwright for Python (pip install -e '.[dev]')")
    return missing


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def chromium(_async_unsafe_for_the_browser):
    # Per test, not per session: while Playwright runs, this thread has a running event loop, and
    # the other tests an xdist worker runs after the journeys must not inherit it.
    missing = _missing_tools()
    if missing:
        message = "the browser journeys need " + "; ".join(missing) + " (.ci/run installs them)"
        if SERVICES_PROMISED:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()
    # While Playwright runs, the test's code runs in another greenlet, and Django's connections
    # (held per context) are other ones than before and after: close them here, or the flush
    # after the test cannot reach them and the final DROP DATABASE finds them still open.
    from django.db import connections

    connections.close_all()
    playwright.stop()


@pytest.fixture(autouse=True)
def _async_unsafe_for_the_browser(monkeypatch) -> None:
    # Playwright's sync API runs an event loop in this thread; Django would take every ORM call
    # the test makes for one from async code. Only the browser tests allow it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def same_address(a: str, b: str) -> bool:
    """The same page: path and query alike once decoded (``%2F`` is ``/``), whatever the origin."""
    a, b = urlsplit(a), urlsplit(b)
    return (a.path, parse_qs(a.query)) == (b.path, parse_qs(b.query))


def zh(message: str, context: str | None = None) -> str:
    """``message`` as the Chinese pages say it: the project's own catalogue (and Django's and
    allauth's), so a journey finds Chinese controls and messages without copying translations."""
    with translation.override("zh-hans"):
        text = pgettext(context, message) if context else gettext(message)
    assert text != message or not re.search(r"[A-Za-z]", message), f"no Chinese for {message!r}"
    return text


def typed(form) -> dict[str, str | list[str]]:
    """What a form holds now, by control name: text and chosen options, and the values of ticked
    boxes as a list (not passwords or files, which a refused form never sends back)."""
    return form.evaluate(
        """f => {
            const out = {};
            for (const el of f.elements) {
                if (!el.name || ['hidden', 'password', 'file', 'submit'].includes(el.type)
                    || el.tagName === 'BUTTON') continue;
                if (el.type === 'checkbox' || el.type === 'radio') {
                    if (el.checked) out[el.name] = (out[el.name] || []).concat([el.value]);
                } else {
                    out[el.name] = el.value;
                }
            }
            return out;
        }"""
    )


def retype(form, values: dict[str, str | list[str]]) -> None:
    """Type ``values`` (from ``typed``) into ``form`` again, control by control, as a person would."""
    for name, value in values.items():
        if isinstance(value, list):
            # A box's value is "on" when it has no value attribute: compare the property.
            boxes = form.locator(f"[name='{name}']")
            for index in range(boxes.count()):
                if boxes.nth(index).evaluate("el => el.value") in value:
                    boxes.nth(index).check()
            continue
        control = form.locator(f"[name='{name}']")
        if control.evaluate("el => el.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)


def zh_plural(singular: str, plural: str, n: int) -> str:
    """The Chinese of a message counted by ``n`` (ngettext), as ``zh`` finds it."""
    with translation.override("zh-hans"):
        text = ngettext(singular, plural, n)
    assert text not in (singular, plural), f"no Chinese for {plural!r}"
    return text


@dataclass
class Journey:
    """One journey's pages: each step screenshotted and checked; the HTML validated at the end."""

    name: str
    page: object
    folder: Path
    steps: list[str] = field(default_factory=list)
    html_files: list[Path] = field(default_factory=list)
    touch_exempt: tuple[str, ...] = ()

    def step(self, label: str, *in_chinese: str, check: bool = True, chinese: bool = True) -> Path:
        """Screenshot the page as ``NN-label.png`` and check its quality (axe, scroll, targets).

        An English page is then shown in Chinese too, switched with the page's own language
        control, screenshotted and checked as ``NN-label-zh.png`` (where each text of
        ``in_chinese`` must be found in <main>), and switched back (journey 5: every page in both
        languages). ``chinese=False`` is for a page whose state a reload would
        lose (a refused form with what was typed, a page answering a POST, one that must not be
        reloaded): the journey shows that state in Chinese by doing it again in Chinese.
        """
        shot = self._capture(label, check=check)
        if chinese and self.language() == "en" and self.page.locator("form.lang-switch").count():
            self.in_chinese(label, *in_chinese)
        return shot

    def language(self) -> str:
        return self.page.locator("html").get_attribute("lang") or ""

    def switch(self, language: str, *, lands_on: str | None = None) -> None:
        """Switch with the header's own control, found by its names in the page's language
        (Language / 语言, Switch / 切换). The person stays on the page, or, from a page that
        answers a POST, lands on ``lands_on`` (a path and query), the page the switch names."""
        page = self.page
        before = page.url.split("#")[0]
        say = zh if self.language() == "zh-hans" else str
        form = page.locator("form.lang-switch")
        form.get_by_label(say("Language"), exact=True).select_option(language)
        with page.expect_navigation():
            form.get_by_role("button", name=say("Switch"), exact=True).click()
        page.wait_for_load_state("networkidle")
        assert self.language() == language, f"{self.name}: the switch did not make the page {language}"
        after = page.url.split("#")[0]
        if lands_on is None:
            assert same_address(after, before), f"{self.name}: switching language left {before} for {after}"
        else:
            assert same_address(after, lands_on), (
                f"{self.name}: switching language from {before} landed on {after}, not {lands_on}"
            )

    def in_chinese(self, label: str, *expected: str) -> None:
        """This page in Chinese: switched, each ``expected`` text found in <main>, checked and
        screenshotted as a step (``label zh``), then switched back to English."""
        from playwright.sync_api import expect

        self.switch("zh-hans")
        main = self.page.locator("main")
        for text in expected:
            expect(main).to_contain_text(text)
        self._capture(f"{label} zh", check=True)
        self.switch("en")

    def _capture(self, label: str, *, check: bool) -> Path:
        page = self.page
        page.wait_for_load_state("networkidle")
        number = len(self.steps) + 1
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        shot = self.folder / f"{number:02d}-{slug}.png"
        page.screenshot(path=str(shot), full_page=True)
        self.steps.append(label)
        html_file = self.folder / f"{number:02d}-{slug}.html"
        html_file.write_text(page.content(), encoding="utf-8")
        self.html_files.append(html_file)
        if check:
            problems = self.axe_problems() + self.layout_problems()
            assert not problems, f"{self.name} / {label} ({page.url}):\n" + "\n".join(problems)
        return shot

    def axe_problems(self) -> list[str]:
        page = self.page
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol, not as a <script> tag: the page's Content
            # Security Policy (no inline scripts) stays on and is not what lets axe in, and no
            # tag of axe's is left for the HTML checker.
            page.evaluate(AXE_JS.read_text(encoding="utf-8"))
        result = page.evaluate(
            """async () => {
                const r = await axe.run(document, {resultTypes: ['violations']});
                return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
            }"""
        )
        return [
            f"axe {v['impact']}: {v['id']} — {v['help']} at {', '.join(v['nodes'])}"
            for v in result
            if v["impact"] in {"serious", "critical"}
        ]

    def layout_problems(self) -> list[str]:
        page = self.page
        problems = []
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        if widths[0] > widths[1]:
            problems.append(f"horizontal scroll: the page is {widths[0]} px wide in a {widths[1]} px viewport")
        small = page.evaluate(
            """([minimum, exempt]) => {
                const selector = 'button, input:not([type=hidden]), select, textarea, a.button, '
                    + '.main-nav a, .breadcrumbs a, .pagination a, [role=button]';
                const out = [];
                for (const el of document.querySelectorAll(selector)) {
                    if (exempt.some(s => el.matches(s))) continue;
                    const style = getComputedStyle(el);
                    if (style.visibility === 'hidden' || style.display === 'none') continue;
                    let box = el.getBoundingClientRect();
                    if (box.width === 0 && box.height === 0) continue;
                    // A checkbox or radio is operated through its label: the label is the target.
                    if ((el.type === 'checkbox' || el.type === 'radio') && el.labels && el.labels.length) {
                        const label = el.labels[0].getBoundingClientRect();
                        box = {width: Math.max(box.width, label.width), height: Math.max(box.height, label.height)};
                    }
                    if (box.width < minimum - 0.5 || box.height < minimum - 0.5) {
                        out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}`
                            + `${el.className ? '.' + String(el.className).split(' ').join('.') : ''}`
                            + ` "${(el.innerText || el.value || el.name || '').trim().slice(0, 30)}"`
                            + ` ${Math.round(box.width)}x${Math.round(box.height)}`);
                    }
                }
                return out;
            }""",
            [MIN_TARGET, list(self.touch_exempt)],
        )
        problems += [f"touch target under {MIN_TARGET} px: {s}" for s in small]
        return problems

    def validate_html(self) -> None:
        """Run the Nu HTML Checker once over every page of the journey: no errors allowed."""
        if not self.html_files:
            return
        result = subprocess.run(  # noqa: S603 - fixed arguments, our own files
            ["java", "-Xss4m", "-jar", str(VNU_JAR), "--format", "json", "--errors-only",
             *[str(p) for p in self.html_files]],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        messages = json.loads(result.stderr or "{}").get("messages", [])
        errors = [
            f"{Path(m.get('url', '')).name}:{m.get('lastLine', '?')}: {m.get('message')} — {m.get('extract', '').strip()[:120]}"
            for m in messages
            if m.get("type") == "error"
        ]
        assert not errors, f"{self.name}: the Nu HTML Checker found errors:\n" + "\n".join(errors)


@pytest.fixture
def journey_factory(chromium, request) -> Iterator:
    """Open a browser context (phone or desktop, a language) and return its Journey.

    Screenshots and pages go to ``test-artifacts/e2e/<test name>/<context name>/``; the Nu HTML
    Checker runs over them when the test ends (a failure there fails the test).
    """
    opened: list[tuple[object, Journey]] = []

    def open_journey(name: str, *, viewport=PHONE, locale: str = "en-GB", touch_exempt=()) -> Journey:
        folder = ARTIFACTS / request.node.name / name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        context = chromium.new_context(
            viewport=viewport, locale=locale, is_mobile=viewport == PHONE, has_touch=viewport == PHONE,
            device_scale_factor=1,
        )
        context.set_default_timeout(15_000)
        journey = Journey(name, context.new_page(), folder, touch_exempt=tuple(touch_exempt))
        opened.append((context, journey))
        return journey

    yield open_journey
    for context, _journey in opened:
        context.close()
    failed = getattr(request.node, "rep_call", None)
    if failed is None or failed.passed:
        for _context, journey in opened:
            journey.validate_html()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
