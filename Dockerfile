# The portal's one image: web (gunicorn), Celery worker and beat, and the migrate one-shot all run
# it with different commands (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=ouc_portal.settings

# gettext compiles the translation catalogues at build time; psycopg2-binary needs no libpq.
# Pango (with HarfBuzz's subsetter) lays out the certificate PDFs; Noto CJK gives them Chinese,
# cut down at build time by hb-subset (libharfbuzz-bin) for speed (certificates/pdf_fonts.py).
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libharfbuzz-bin fontconfig fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 1000 portal \
    && useradd --system --uid 1000 --gid portal --home-dir /app --shell /usr/sbin/nologin portal

WORKDIR /app

# Dependencies first, from the runtime lock alone (exact versions, every file's sha256 checked),
# so a code change does not reinstall them. The dev extra (requirements-dev.txt) stays out of the
# image.
COPY requirements.txt ./
RUN pip install --require-hashes -r requirements.txt

COPY . .
# Editable, so the package stays in /app beside templates/, static/ and locale/ (settings find
# them from the package's own path); --no-deps: the dependencies are the locked ones above.
RUN pip install --no-deps -e . \
    && if [ -d locale ]; then python manage.py compilemessages --ignore=.venv; fi \
    && DEBUG=false SECRET_KEY=build-time-only-collectstatic-not-a-secret-key-000000000000 \
       ALLOWED_HOSTS=build.invalid python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media /app/var/beat /app/var/mail \
    && DEBUG=false SECRET_KEY=build-time-only-collectstatic-not-a-secret-key-000000000000 \
       ALLOWED_HOSTS=build.invalid python manage.py build_pdf_fonts \
    && chown -R portal:portal /app/var

USER portal
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "/app/deploy/healthcheck.py", "web"]

CMD ["gunicorn", "--config", "/app/deploy/gunicorn.conf.py", "ouc_portal.wsgi:application"]
