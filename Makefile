# The two commands a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# pytest-xdist workers; CI machines have two cores.
TEST_WORKERS ?= 2
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install lock node-tools run pdf-check migrate demo demo-code test e2e lint messages clean bench

# Dependencies come from the hash-pinned lock (requirements-dev.txt: the runtime lock
# requirements.txt plus the dev extra), then the portal itself without resolving anything; the
# virtualenv is refreshed whenever a lock or pyproject.toml changes. `make lock` rewrites the locks.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Re-resolve the locks after pyproject.toml's dependencies change: pins that still fit are kept.
# `make lock UPGRADE=1` moves every pin to the newest release its range allows.
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host $(if $(UPGRADE),--upgrade)
lock: install
	CUSTOM_COMPILE_COMMAND="make lock" $(PY) -m piptools compile $(LOCK_FLAGS) --output-file requirements.txt pyproject.toml
	CUSTOM_COMPILE_COMMAND="make lock" $(PY) -m piptools compile $(LOCK_FLAGS) --extra dev --constraint requirements.txt \
		--output-file requirements-dev.txt pyproject.toml

# make run always uses the embedded stack: SQLite and eager Celery, whatever the shell exports.
# The links in e-mails and every id signed into a credential start with SITE_URL: by default the
# address make run serves (HOST and PORT), so `make run PORT=8011` signs 8011, not 8000.
SITE_URL ?= http://$(HOST):$(PORT)
RUN_ENV := DATABASE_URL= REDIS_URL= SITE_URL=$(SITE_URL)

migrate: install
	$(RUN_ENV) $(PY) manage.py migrate --noinput

demo: migrate
	$(RUN_ENV) $(PY) manage.py load_network
	$(RUN_ENV) $(PY) manage.py load_catalogue
	$(RUN_ENV) $(PY) manage.py seed_demo
	$(RUN_ENV) $(PY) manage.py seed_demo_enrolments
	$(RUN_ENV) $(PY) manage.py load_recognition
	$(RUN_ENV) $(PY) manage.py seed_demo_credits
	$(RUN_ENV) $(PY) manage.py load_certificate_types
	$(RUN_ENV) $(PY) manage.py seed_demo_certificates

# The second-factor code the demo staff accounts need after their password, right now.
demo-code: install
	@$(RUN_ENV) $(PY) manage.py demo_code

# One line: what the certificate PDFs need that is missing here (Pango, Chinese fonts, hb-subset)
# and the apt-get command that installs it. It never stops `make run`. npm's Noto Sans SC (see
# NODE_STAMP below) stands in for Debian's Chinese fonts.
pdf-check: install node-tools
	@$(RUN_ENV) $(PY) manage.py check_pdf_tools

run: pdf-check demo
	@echo "Serving the portal on http://$(HOST):$(PORT)/ (demo log-ins are listed in README.md)"
	$(RUN_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

# From package-lock.json, when npm is here: the browser journeys' tools (axe-core, the Nu HTML
# Checker), and Noto Sans SC for the PDFs where Debian's Noto CJK fonts are not installed. Without
# them a bare `make test` skips the journeys, a run promised the real stack fails.
NODE_STAMP := node_modules/.installed
node-tools: $(NODE_STAMP)

$(NODE_STAMP): package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent && touch $(NODE_STAMP); \
	else echo "npm not found: the browser journeys will be skipped (.ci/run installs it), and the PDFs need Debian's fonts-noto-cjk"; fi

test: install $(NODE_STAMP)
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Only the real-browser journeys (tests/e2e), screenshots under test-artifacts/e2e/.
e2e: install $(NODE_STAMP)
	$(PY) -m pytest -m e2e $(PYTEST_ARGS) tests/e2e

# ruff, then the import direction: the kernel and the four apps import only downward
# (tools/check_layers.py names any import that points up, file:line).
lint: install
	$(VENV)/bin/ruff check .
	$(PY) tools/check_layers.py

# The performance benchmark (README.md, Benchmarks): PostgreSQL with seed_scale's data, gunicorn
# with DEBUG off, wrk on loopback, then the import, issuing and audit measures in the process.
# Prints every figure against its target and writes var/bench/latest.json. BENCH_REUSE=1 keeps
# the database a previous run seeded.
BENCH_LEARNERS ?= 100000
BENCH_DURATION ?= 10
BENCH_CONNECTIONS ?= 8
bench: install
	BENCH_LEARNERS=$(BENCH_LEARNERS) BENCH_DURATION=$(BENCH_DURATION) \
	BENCH_CONNECTIONS=$(BENCH_CONNECTIONS) $(PY) -m bench.run

# Recompile the translation catalogues after editing locale/*/LC_MESSAGES/django.po.
messages: install
	$(PY) manage.py makemessages -l zh_Hans -l en --no-obsolete --ignore=.venv --ignore=staticfiles --ignore=node_modules --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles var .pytest_cache node_modules test-artifacts
