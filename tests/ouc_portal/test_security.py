"""Production security: the Content Security Policy, the values DEBUG=false produces, allauth's
rate limits, and stored files that only their entitled readers ever receive.

``check --deploy`` itself runs in tests/ouc_portal/test_settings.py and test_deploy.py; here are
the values it does not look at.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.views import static

from ouc_portal.security import build_policy
from tests import factories
from tests.creditbank.test_learner_views import PDF, submit_outcome
from tests.ouc_portal.test_settings import REPO_ROOT, clean_env, run_python

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
PASSWORD = "Granite-Lathe-7319-spindle"


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in parsed, f"{name} given twice in {header!r}"
        parsed[name] = sources
    return parsed


def rate_amount(action: str, per: str) -> int:
    """The amount of ``action``'s first limit counted ``per`` ip or key, from the settings."""
    for rate in settings.ACCOUNT_RATE_LIMITS[action].split(","):
        amount, _duration, *rest = rate.split("/")
        if (rest or ["ip"])[0] == per:
            return int(amount)
    raise AssertionError(f"{action} has no limit per {per}")


# --- Content Security Policy -------------------------------------------------------------------


def assert_strict_site_policy(header: str) -> None:
    policy = directives(header)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]


@pytest.mark.django_db
def test_every_kind_of_page_carries_the_strict_policy(client, cast, world):
    public = [
        reverse("schools:home"),
        reverse("enrolment:programme_list"),
        world.enrolment.intake.programme.get_absolute_url(),
        reverse("account_login"),
        reverse("account_signup"),
        "/no-such-page/",
    ]
    for url in public:
        response = client.get(url, **EN)
        assert response.status_code in {200, 404}, url
        assert_strict_site_policy(response["Content-Security-Policy"])
    client.force_login(world.learner.user)
    for url in (
        reverse("enrolment:my_dashboard"),
        world.enrolment.get_absolute_url(),
        reverse("credits:home"),
        reverse("credits:lifelong_file"),
    ):
        response = client.get(url, **EN)
        assert response.status_code == 200, url
        assert_strict_site_policy(response["Content-Security-Policy"])


@pytest.mark.django_db
def test_a_missing_page_with_debug_off_is_the_portals_own_not_djangos_debug_page(client):
    response = client.get("/no-such-page/", **EN)
    assert response.status_code == 404
    assert b"NONE,NOARCHIVE" not in response.content  # Django's technical 404 page
    assert b"URLconf" not in response.content
    assert "Content-Security-Policy" in response


@pytest.mark.django_db
def test_djangos_debug_pages_go_without_a_policy_with_debug_on_only(client, settings):
    settings.DEBUG = True
    response = client.get("/no-such-page/", **EN)
    assert response.status_code == 404 and b"NONE,NOARCHIVE" in response.content
    assert "Content-Security-Policy" not in response
    # A page of ours still has it, DEBUG or not.
    assert_strict_site_policy(client.get(reverse("account_login"), **EN)["Content-Security-Policy"])


@pytest.mark.django_db
def test_swagger_ui_runs_its_inline_script_by_a_nonce_new_for_every_response(client):
    first, second = client.get("/api/docs/"), client.get("/api/docs/")
    assert first.status_code == second.status_code == 200
    nonces = []
    for response in (first, second):
        policy = directives(response["Content-Security-Policy"])
        # Scripts: this site and this response's nonce, never 'unsafe-inline'.
        assert "'unsafe-inline'" not in policy["script-src"]
        (nonce_source,) = [s for s in policy["script-src"] if s.startswith("'nonce-")]
        nonce = nonce_source.removeprefix("'nonce-").rstrip("'")
        assert len(nonce) >= 22
        body = response.content.decode()
        inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", body)
        assert inline == [f' nonce="{nonce}"'], inline
        assert "SwaggerUIBundle(" in body
        assert "<style nonce=" in body
        # The site's policy, with nothing added but this response's nonce.
        site = {k: list(v) for k, v in settings.CONTENT_SECURITY_POLICY.items()}
        site["script-src"].append(nonce_source)
        site["style-src"].append(nonce_source)
        assert policy == site
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_a_nonce_is_never_added_where_unsafe_inline_must_keep_working():
    policy = {"script-src": ["'self'"], "style-src": ["'self'", "'unsafe-inline'"]}
    header = build_policy(policy, nonce="abc")
    assert directives(header) == {
        "script-src": ["'self'", "'nonce-abc'"],
        "style-src": ["'self'", "'unsafe-inline'"],
    }


@pytest.mark.django_db
def test_report_only_mode_reports_without_blocking(client, settings):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = True
    response = client.get(reverse("account_login"), **EN)
    assert "Content-Security-Policy" not in response
    assert_strict_site_policy(response["Content-Security-Policy-Report-Only"])


@pytest.mark.django_db
def test_a_page_that_uses_no_nonce_gets_none(client):
    response = client.get(reverse("account_login"), **EN)
    assert "nonce-" not in response["Content-Security-Policy"]


# Inline code the policy would block: a <script> without src (JSON data blocks excepted), a
# <style> block, a style="" attribute, an on…= event handler, a javascript: URL.
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>")
INLINE_STYLE = re.compile(r"<style\b[^>]*>")
STYLE_ATTRIBUTE = re.compile(r"""\sstyle\s*=\s*["']""", re.IGNORECASE)
HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"javascript:", re.IGNORECASE)
# Our override of drf-spectacular's Swagger UI page: its inline blocks carry the response's nonce.
NONCE = 'nonce="{{ request.csp_nonce }}"'


def html_templates() -> list[Path]:
    roots = [REPO_ROOT / "templates"] + [
        REPO_ROOT / app / "templates" for app in ("schools", "enrolment", "creditbank", "certificates", "ouc_portal")
    ]
    found = [p for root in roots if root.exists() for p in root.rglob("*.html")]
    assert len(found) > 50, "the template scan found too few templates to be looking in the right place"
    return found


def test_no_template_has_inline_code_the_policy_would_block():
    offences = []
    for path in html_templates():
        relative = path.relative_to(REPO_ROOT)
        # PDF layouts are rendered by WeasyPrint on the server, never served as a web page.
        if relative.parts[:3] == ("templates", "certificates", "pdf"):
            continue
        text = path.read_text()
        for pattern in (INLINE_SCRIPT, INLINE_STYLE, STYLE_ATTRIBUTE, HANDLER, JAVASCRIPT_URL):
            for match in pattern.finditer(text):
                if NONCE in match.group(0):
                    continue
                line = text.count("\n", 0, match.start()) + 1
                offences.append(f"{relative}:{line}: {match.group(0)!r}")
    assert offences == []


def test_the_template_scan_catches_each_kind_of_inline_code():
    # The scan above passing means nothing unless its patterns match what they are meant to.
    samples = {
        INLINE_SCRIPT: '<script>alert(1)</script>',
        INLINE_STYLE: "<style>p{}</style>",
        STYLE_ATTRIBUTE: '<p style="color:red">',
        HANDLER: "<button onclick='go()'>",
        JAVASCRIPT_URL: '<a href="javascript:go()">',
    }
    for pattern, sample in samples.items():
        assert pattern.search(sample), sample
    assert not INLINE_SCRIPT.search('<script src="/static/js/poll-status.js" defer></script>')
    assert not INLINE_SCRIPT.search('<script type="application/ld+json">{}</script>')
    assert not HANDLER.search('<input name="one" data-json="x">')


# --- Production values --------------------------------------------------------------------------


def test_production_headers_and_cookies():
    # test_settings.py checks DEBUG, the secure cookies, SSL redirect and the HSTS length; these
    # are the rest of what DEBUG=false must mean.
    env = clean_env(DEBUG="false", SECRET_KEY="k" * 64, ALLOWED_HOSTS="portal.example")
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, "
        "s.SECURE_CONTENT_TYPE_NOSNIFF, s.SECURE_REFERRER_POLICY, s.X_FRAME_OPTIONS, "
        "s.SECURE_CROSS_ORIGIN_OPENER_POLICY, s.SESSION_COOKIE_HTTPONLY, "
        "'ouc_portal.security.ContentSecurityPolicyMiddleware' in s.MIDDLEWARE, "
        "s.CONTENT_SECURITY_POLICY_REPORT_ONLY)"
    )
    result = run_python(["-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "31536000", "True", "True", "True", "same-origin", "DENY", "same-origin", "True", "True",
        "False",
    ]  # fmt: skip


@pytest.mark.django_db
def test_responses_carry_the_security_headers(client, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    response = client.get(reverse("account_login"), secure=True, **EN)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


# --- allauth rate limits ------------------------------------------------------------------------


def test_the_rate_limits_are_set_explicitly():
    limits = settings.ACCOUNT_RATE_LIMITS
    for action in ("login", "login_failed", "signup", "reset_password", "reset_password_from_key",
                   "confirm_email"):  # fmt: skip
        assert limits.get(action), f"no explicit rate limit for {action}"
    from allauth.account import app_settings

    # Ours, not allauth's defaults merged over them.
    for action, rate in limits.items():
        assert app_settings.RATE_LIMITS[action] == rate


@pytest.mark.django_db
def test_failed_log_ins_to_one_account_are_refused_after_the_limit(client):
    factories.UserFactory(email="sun.li@example.org", password=PASSWORD)
    url = reverse("account_login")
    allowed = rate_amount("login_failed", "key")
    for _ in range(allowed):
        response = client.post(url, {"login": "sun.li@example.org", "password": "wrong"}, **EN)
        assert response.status_code == 200
        assert "Too many failed login attempts" not in response.content.decode()
    # The next try is refused even with the right password: the guesser learns nothing.
    response = client.post(url, {"login": "sun.li@example.org", "password": PASSWORD}, **EN)
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_log_in_attempts_from_one_address_answer_429_after_the_limit(client):
    url = reverse("account_login")
    allowed = rate_amount("login", "ip")
    for i in range(allowed):
        # Every try a different account, so the per-account failure limit never applies.
        response = client.post(url, {"login": f"x{i}@example.org", "password": "wrong"}, **EN)
        assert response.status_code == 200, i
    response = client.post(url, {"login": "y@example.org", "password": "wrong"}, **EN)
    assert response.status_code == 429
    # The portal's own page, in the person's language, not a bare "Too Many Requests".
    html = response.content.decode()
    assert "Too many attempts" in html and '<main id="main"' in html
    chinese = client.post(url, {"login": "y@example.org", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.status_code == 429 and "Too many attempts" not in chinese.content.decode()


@pytest.mark.django_db
def test_sign_ups_from_one_address_answer_429_after_the_limit(client):
    from ouc_portal.accounts.models import User

    url = reverse("account_signup")
    allowed = rate_amount("signup", "ip")
    for i in range(allowed):
        data = {"email": f"worker{i}@example.org", "password1": PASSWORD, "password2": PASSWORD}
        assert client.post(url, data, **EN).status_code == 302, i
        client.logout()
    data = {"email": "one.too.many@example.org", "password1": PASSWORD, "password2": PASSWORD}
    assert client.post(url, data, **EN).status_code == 429
    assert User.objects.count() == allowed


@pytest.mark.django_db
def test_password_resets_for_one_address_answer_429_after_the_limit(client, mailoutbox, eager):
    factories.UserFactory(email="sun.li@example.org", password=PASSWORD)
    url = reverse("account_reset_password")
    allowed = rate_amount("reset_password", "key")
    for i in range(allowed):
        assert client.post(url, {"email": "sun.li@example.org"}, **EN).status_code == 302, i
    assert client.post(url, {"email": "sun.li@example.org"}, **EN).status_code == 429
    assert len(mailoutbox) == allowed


# --- No public media ----------------------------------------------------------------------------


def all_patterns(resolver=None):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from all_patterns(pattern)
        elif isinstance(pattern, URLPattern):
            yield pattern


def test_no_url_serves_a_folder_of_files():
    serving = [str(p.pattern) for p in all_patterns() if p.callback is static.serve]
    assert serving == []
    assert settings.MEDIA_URL == "/media/"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.mark.django_db
def test_stored_evidence_reaches_its_owner_through_the_view_and_no_one_by_its_path(
    client, cast, world, media
):
    evidence = submit_outcome(world.learner).evidence.get()
    stored = Path(media) / evidence.file.name
    assert stored.read_bytes() == PDF  # a real file, at the path the URL below names
    direct = settings.MEDIA_URL + evidence.file.name
    download = reverse("credits:evidence_download", args=[evidence.public_id])

    assert client.get(direct).status_code == 404
    client.force_login(world.learner.user)
    assert client.get(direct).status_code == 404
    response = client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    client.force_login(cast.other_learner)
    assert client.get(download).status_code == 404
    assert client.get(direct).status_code == 404


def test_allauth_limits_read_the_client_address_from_the_same_header_as_the_others():
    from tests.ouc_portal.test_settings import clean_env, run_python

    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(getattr(settings, 'ALLAUTH_TRUSTED_CLIENT_IP_HEADER', None))"
    )
    behind_proxy = run_python(["-c", code], clean_env(RATELIMIT_IP_META_KEY="HTTP_X_REAL_IP"))
    assert behind_proxy.returncode == 0, behind_proxy.stderr
    assert behind_proxy.stdout.strip().lower() == "x-real-ip"
    direct = run_python(["-c", code], clean_env())
    assert direct.stdout.strip() == "None"  # REMOTE_ADDR: allauth's default


@pytest.mark.django_db
@pytest.mark.parametrize(
    "method, url, data",
    [
        ("get", "/api/v1/intakes/?open_now=true&centre=%0FA%00B", None),
        ("get", "/programmes/?q=%00", None),
        ("get", "/centres/?province=%00", None),
        ("post", "/i18n/setlang/", "language=en%00&next=/"),
    ],
)
def test_a_nul_character_in_a_parameter_is_a_400_not_a_server_error(client, method, url, data):
    if data:
        response = client.post(url, data, content_type="application/x-www-form-urlencoded")
    else:
        response = client.get(url)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


@pytest.mark.django_db
def test_parameters_without_nul_pass_through(client):
    assert client.get("/api/v1/intakes/?centre=beijing").status_code == 200
    assert client.get("/programmes/?q=%E6%95%B0%E6%8E%A7").status_code == 200  # 数控
