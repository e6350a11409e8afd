"""Settings for the OUC industry-school portal.

Everything that differs between a laptop, CI and production is read from the environment through
the strict readers in ``ouc_portal.env``; README.md lists every variable with its default.
Development defaults: DEBUG on, SQLite, Celery eager, email to the console.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from ouc_portal.env import (
    development_signing_key,
    env_bool,
    env_choice,
    env_database,
    env_decimal,
    env_int,
    env_list,
    env_queue_name,
    env_redis_url,
    env_s3_storage,
    env_str,
    redis_url_for_db,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "dev-only-insecure-key-never-used-when-DEBUG-is-off"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = (env_str("SITE_URL", "http://127.0.0.1:8000") or "").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "ouc_portal.accounts",
    "ouc_portal.audit",
    "ouc_portal.outbox",
    "django.contrib.postgres",
    "schools",
    "enrolment",
    "creditbank",
    "certificates",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # NUL in a parameter would reach PostgreSQL as a ValueError (a 500): refused with 400 first.
    "ouc_portal.security.RejectNullCharactersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Anonymous GETs of public pages answered whole from the cache (ouc_portal/pagecache.py):
    # after the language and the CSRF cookie are known, before sessions are read for the user.
    "ouc_portal.pagecache.PublicPageCacheMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Answers to a signed-in person (or a partner system) are never kept by a shared cache.
    "ouc_portal.security.PrivateResponsesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ouc_portal.security.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Staff without an authenticator app reach nothing but the page that sets one up.
    "ouc_portal.accounts.second_factor.StaffSecondFactorMiddleware",
    # After authentication: each changing request of a signed-in person is an audit event.
    "ouc_portal.audit.middleware.AuditMiddleware",
]

ROOT_URLCONF = "ouc_portal.urls"
WSGI_APPLICATION = "ouc_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ouc_portal.context_processors.portal",
                "schools.context_processors.roles",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Persistent connections: without them every request pays for a new PostgreSQL connection.
CONN_MAX_AGE = env_int("CONN_MAX_AGE", 60, minimum=0)
DATABASES = {
    "default": env_database(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=CONN_MAX_AGE
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and shared cache ----------------------------------------------------
REDIS_URL = env_redis_url("REDIS_URL")
CACHE_KEY_PREFIX = env_str("CACHE_KEY_PREFIX", "ouc") or "ouc"
# The cache lives in its own Redis database (by default database 1 of the broker's server): a
# cache.clear() flushes its whole database and must never take queued Celery tasks with it.
CACHE_URL = env_redis_url("CACHE_URL") or (redis_url_for_db(REDIS_URL, 1) if REDIS_URL else None)
if CACHE_URL and REDIS_URL and CACHE_URL == REDIS_URL:
    raise ImproperlyConfigured("CACHE_URL must name another Redis database than REDIS_URL.")
if CACHE_URL:
    CACHES = {
        "default": {
            # Django's Redis backend, sharing one client per pool (ouc_portal/redis_cache.py).
            "BACKEND": "ouc_portal.redis_cache.SharedClientRedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions: with Redis, read from the cache and written through to PostgreSQL (cached_db), so a
# request of any web process finds the session without a database query, and a Redis restart or
# eviction logs no one out. Without Redis (one process, make run), in the database.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if CACHE_URL
    else "django.contrib.sessions.backends.db"
)
# Public catalogue fragments (enrolment/cache.py) live at most this long; any change to what the
# pages show replaces them at once, and 0 turns the cache off.
CATALOGUE_CACHE_SECONDS = env_int("CATALOGUE_CACHE_SECONDS", 600, minimum=0, maximum=86_400)

CELERY_BROKER_URL = REDIS_URL or "memory://"
# Without a broker (make run on a bare machine) tasks run in the web process as they are queued.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", REDIS_URL is None)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = env_queue_name("CELERY_TASK_DEFAULT_QUEUE", "default")
# Long jobs (rendering and signing PDFs, nightly sweeps) have their own queue and their own
# workers (`worker-long` in docker-compose.yml), so a bulk issue of a thousand certificates never
# stands in front of a welcome or status email on the default queue.
CELERY_LONG_QUEUE = env_queue_name("CELERY_LONG_QUEUE", "long")
if CELERY_LONG_QUEUE == CELERY_TASK_DEFAULT_QUEUE:
    raise ImproperlyConfigured(
        f"CELERY_LONG_QUEUE must differ from CELERY_TASK_DEFAULT_QUEUE ({CELERY_LONG_QUEUE!r}): "
        "long jobs would hold up the emails again."
    )
CELERY_LONG_TASKS = (
    "certificates.issue_certificate",
    "certificates.build_transcript",
    "creditbank.expire_outcomes",
)
CELERY_TASK_ROUTES = {name: {"queue": CELERY_LONG_QUEUE} for name in CELERY_LONG_TASKS}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task taken by a worker that dies before acknowledging it (late acks) goes back to its queue
# once this many seconds have passed: longer than any task runs, shorter than anyone waits.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1, maximum=86_400)
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE = {
    # Work recorded while the broker was down is handed over once it answers again.
    "outbox-reconcile": {"task": "outbox.reconcile", "schedule": 60},
    # Unused credits of expired certificates leave the balance, once, at night.
    "expire-outcomes": {"task": "creditbank.expire_outcomes", "schedule": 24 * 60 * 60},
}

# --- Accounts ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "schools:home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[OUC] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
ACCOUNT_ADAPTER = "ouc_portal.accounts.adapter.AccountAdapter"
# allauth's rate limits, in the cache (Redis in production, so every web process counts together).
# Per address ("ip") they slow a script down; per e-mail address ("key") they stop one account being
# guessed at or one inbox flooded from many addresses. A learning centre may register a whole class
# from behind one NAT address, hence room for a class a minute (and a few classes an hour). A
# refused log-in or sign-up answers 429; a refused failed log-in says so on the form, even when the
# password is right.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    # "key" is the account *from one address* (AccountAdapter._get_login_attempts_cache_key): a
    # stranger's wrong passwords never lock the owner out. The second factor's code tries are
    # counted per account (allauth, the same five in five minutes).
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip,200/h/ip",
    # The reset form: per address, and per e-mail address asked about (allauth has no separate
    # "reset_password_email" action: the key part of this one limits the mails to one inbox).
    "reset_password": "20/m/ip,5/h/key",
    # The link in the reset mail: tries of a reset key.
    "reset_password_from_key": "20/m/ip",
    # One confirmation mail per address every three minutes, however often it is asked for.
    "confirm_email": "1/3m/key",
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "OUC Industry Schools"
# The code fields in the portal's words, with a numeric keypad on phones (ouc_portal/accounts/forms.py).
MFA_FORMS = {
    "authenticate": "ouc_portal.accounts.forms.SecondFactorForm",
    "reauthenticate": "ouc_portal.accounts.forms.SecondFactorAgainForm",
    "activate_totp": "ouc_portal.accounts.forms.SetUpAppForm",
}
MFA_ADAPTER = "ouc_portal.accounts.adapter.SecondFactorAdapter"

# --- Email ------------------------------------------------------------------------------------
# The SMTP values are parsed even without EMAIL_HOST: a malformed one stops start-up instead of
# waiting, ignored, for the day EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "OUC Industry Schools <noreply@ouchn.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Mail tasks retry an SMTP server that is away with an exponential, fully jittered backoff: the
# n-th wait is random up to MAIL_RETRY_BACKOFF * 2**n seconds, capped at MAIL_RETRY_BACKOFF_MAX;
# after MAIL_MAX_RETRIES retries the task is marked failed in the outbox, for staff to send again.
# The defaults keep trying for about three hours (at most six): docs/operations.md.
MAIL_RETRY_BACKOFF = env_int("MAIL_RETRY_BACKOFF", 60, minimum=1, maximum=3600)
MAIL_RETRY_BACKOFF_MAX = env_int("MAIL_RETRY_BACKOFF_MAX", 1800, minimum=1, maximum=86_400)
MAIL_MAX_RETRIES = env_int("MAIL_MAX_RETRIES", 16, minimum=0, maximum=100)

# --- Languages --------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

# --- Static and media -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# The Chinese faces the PDFs embed, cut down once per machine (certificates/pdf_fonts.py).
PDF_FONT_DIR = Path(env_str("PDF_FONT_DIR", str(BASE_DIR / "var" / "fonts")))
# Named, but served by nothing: no static() or serve() in any urls.py, so a request for a stored
# file's path answers 404 (tests/ouc_portal/test_security.py); files leave through views only.
MEDIA_URL = "/media/"
# Uploaded evidence and issued PDFs: on one machine, MEDIA_ROOT (a volume shared by the web and
# worker containers); on more than one, an S3-compatible bucket (S3_BUCKET and friends, read by
# ouc_portal.env.env_s3_storage), private, every file streamed through a view that checks who asks.
S3_STORAGE = env_s3_storage()
STORAGES = {
    "default": S3_STORAGE or {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # A partner system's bearer key first (schools/api/authentication.py): a request that names
    # one is answered by it alone (401 if it fails); any other falls through to the session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "schools.api.authentication.PartnerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON parser, refusing too-deep nesting and lone surrogates (schools/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "schools.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OUC industry-school portal API",
    "DESCRIPTION": "Industry schools, programmes, enrolment, credit bank and certificates.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `kind` or status field with different choices: name each enum after
    # its model, or the schema gets hash-suffixed names (drf_spectacular.W001).
    "ENUM_NAME_OVERRIDES": {
        "PartnerAssociationKindEnum": "schools.models.PartnerAssociation.Kind",
        "LearningCentreKindEnum": "schools.models.LearningCentre.Kind",
        "ProgrammeKindEnum": "enrolment.models.ProgrammeKind",
        "RequirementGroupKindEnum": "enrolment.models.RequirementGroup.Kind",
        "QfLevelEnum": "enrolment.models.QF_LEVELS",
        "OperatingLevelEnum": "schools.models.OperatingLevel",
        "EnrolmentStatusEnum": "enrolment.models.EnrolmentStatus",
        "OutcomeKindEnum": "creditbank.models.OutcomeKind",
        "OutcomeStatusEnum": "creditbank.models.OutcomeStatus",
        "LedgerEntryKindEnum": "creditbank.models.EntryKind",
        "ApplicationStatusEnum": "creditbank.models.ApplicationStatus",
        "ConversionModeEnum": "creditbank.models.ConversionMode",
        "CertificateRequestStatusEnum": "certificates.models.RequestStatus",
    },
}

# --- Security (production values follow from DEBUG being off) ---------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# A window this site opens, or that opens it, shares no browsing context with another site.
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# /healthz/ and /readyz/ are probed over plain HTTP from inside the deployment.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$"]

# Content Security Policy (ouc_portal.security): scripts, styles, fonts and images from this site
# only; no inline script, style or event handler on any page of ours (a test scans templates/);
# QR codes and Swagger UI's icons are data: images; no plugins, no framing, forms post home.
CONTENT_SECURITY_POLICY: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
# Swagger UI at /api/docs/ (drf-spectacular-sidecar: scripts and styles from our static files)
# lives under the same policy: its inline initialising script and base styles carry the
# response's nonce (templates/drf_spectacular/swagger_ui.html; tests/e2e/test_csp.py runs it).

# Report violations in the browser console only, without blocking: for trying a policy change.
CONTENT_SECURITY_POLICY_REPORT_ONLY = env_bool("CONTENT_SECURITY_POLICY_REPORT_ONLY", False)

# --- Logging ----------------------------------------------------------------------------------
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"})
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # WeasyPrint logs six progress lines at INFO for every PDF.
    "loggers": {"django.db.backends": {"level": "INFO"}, "weasyprint": {"level": "WARNING"}},
}

PORTAL_NAME = _("OUC Industry Schools")

# --- Enrolment --------------------------------------------------------------------------------
RESULTS_CSV_MAX_BYTES = env_int("RESULTS_CSV_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)

# --- Credit bank (each a stated default, changeable per deployment) ----------------------------
# At most this share of a programme's credits may come from transfer and conversion.
CREDITBANK_MAX_RECOGNISED_SHARE = env_decimal("CREDITBANK_MAX_RECOGNISED_SHARE", "0.5", minimum="0", maximum="1")
# Outcomes older than this many years are not current enough to transfer or convert.
CREDITBANK_CURRENCY_YEARS = env_int("CREDITBANK_CURRENCY_YEARS", 5, minimum=1, maximum=50)
# Credits a learner may apply in one calendar year from outcomes of any single issuing body.
CREDITBANK_YEARLY_SOURCE_CAP = env_decimal("CREDITBANK_YEARLY_SOURCE_CAP", "30", minimum="0.5")
# Evidence files: PDF, JPEG or PNG, at most this many bytes each.
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)

# --- Certificates -----------------------------------------------------------------------------
# The Ed25519 key that signs issued credentials: a 32-byte hex seed or a multibase private key.
# Never committed. With DEBUG on and no key set, a development key is made once and kept in
# var/credential-signing.key (ignored by git) so `make run` and the tests can issue; with DEBUG off
# a missing key stops `check --deploy` and issuing refuses to run.
CREDENTIAL_SIGNING_KEY = env_str("CREDENTIAL_SIGNING_KEY")
CREDENTIAL_DEVELOPMENT_KEY_FILE = BASE_DIR / "var" / "credential-signing.key"
if not CREDENTIAL_SIGNING_KEY and DEBUG:
    CREDENTIAL_SIGNING_KEY = development_signing_key(CREDENTIAL_DEVELOPMENT_KEY_FILE)
# Public keys (z6Mk… Multikeys) of signing keys retired by a rotation: the issuer profiles keep
# listing them, so credentials they signed still verify.
CREDENTIAL_RETIRED_PUBLIC_KEYS = env_list("CREDENTIAL_RETIRED_PUBLIC_KEYS", [])
# Verification lookups (page, credential download, API) per client address, in one shared budget,
# so codes cannot be enumerated. django-ratelimit syntax: "30/m", "500/h".
VERIFY_RATE_LIMIT = env_str("VERIFY_RATE_LIMIT", "30/m")
if not re.fullmatch(r"\d+/\d*[smhd]", VERIFY_RATE_LIMIT or ""):
    raise ImproperlyConfigured(f"VERIFY_RATE_LIMIT must look like 30/m or 500/h, not {VERIFY_RATE_LIMIT!r}")
# Behind a reverse proxy every visitor shares the proxy's address: name the header holding the
# client's (e.g. HTTP_X_REAL_IP, set by your proxy only).
RATELIMIT_IP_META_KEY = env_str("RATELIMIT_IP_META_KEY", "REMOTE_ADDR")
# allauth's own rate limits (log-in, sign-up, password reset) read the same header, named as an
# HTTP header (HTTP_X_REAL_IP -> X-Real-IP); without a proxy, REMOTE_ADDR as before.
if RATELIMIT_IP_META_KEY.startswith("HTTP_"):
    ALLAUTH_TRUSTED_CLIENT_IP_HEADER = RATELIMIT_IP_META_KEY.removeprefix("HTTP_").replace("_", "-").title()
# If the cache (Redis) is down, verification keeps answering rather than refusing everyone: the
# codes carry 192 random bits, so the limit is a second line of defence, not the first.
RATELIMIT_FAIL_OPEN = True
