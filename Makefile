# The two commands: `make run` (the app with demo data) and `make test` (the whole suite).
# Needs only Python 3.12+ and make; everything else is installed into .venv from the lock file.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
# Links in e-mails (sent by the worker) point at the server `make run` starts, unless given.
SITE_URL ?= http://$(HOST):$(PORT)

.PHONY: install run test lint format migrate seed worker clean lock messages

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Python 3.12 or newer is needed, found " + sys.version.split()[0] + ": run make PYTHON=python3.12 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

# The translations' .mo files are generated (pure Python, no GNU gettext needed).
messages: install
	$(BIN)/python manage.py translations compile

migrate: messages
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

# The web server and a Celery worker (with beat) side by side; Ctrl-C stops both.
# Without REDIS_URL the worker takes its tasks from a folder in var/celery/. Another port:
# make run PORT=8010 (links in e-mails follow: SITE_URL).
run: seed
	@echo ""
	@echo "  Open http://$(HOST):$(PORT)/accounts/login/ and log in with a demo login above."
	@echo "  E-mails sent: http://$(HOST):$(PORT)/manage/dev/mail/ (log in as staff; kept in var/mail/)."
	@echo "  Ctrl-C stops the server and the worker."
	@echo ""
	@trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	SITE_URL=$(SITE_URL) $(BIN)/celery -A config worker --beat --pool=solo --loglevel=WARNING \
		--schedule=var/celerybeat-schedule & worker=$$!; \
	SITE_URL=$(SITE_URL) $(BIN)/python manage.py runserver $(HOST):$(PORT)

worker: messages
	SITE_URL=$(SITE_URL) $(BIN)/celery -A config worker --beat --loglevel=INFO --schedule=var/celerybeat-schedule

test: messages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-pin requirements.lock after changing pyproject.toml.
lock: install
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.12 \
		--quiet -o requirements.lock

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
