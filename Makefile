# `make run`, `make serve` and `make test` are what the README promises; all work on a machine
# with only Python 3.11+, make and the package registries.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# `make run` is for trying the service on this machine: the simulator is on while HOST is a
# loopback address (unless SIMULATOR_ENABLED=0), for browsers on this machine only.
# `make run` loads the demo directory and accounts into an empty database unless
# DEMO_DATA=0 (`demo load` itself never touches a database that already has organisations).
DEMO_DATA ?= 1

# `make serve` is for deployments: gunicorn with WORKERS processes on HOST:PORT, the outbox worker
# beside it, no demo data, and the simulator off (unless SIMULATOR_ENABLED=1).
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 4

.PHONY: run serve test audit fuzz translations check-python icu clean

run: $(VENV)/.installed
	$(BIN)/flask --app app db upgrade
ifeq ($(filter 0 false no off,$(DEMO_DATA)),)
	$(BIN)/flask --app app demo load
endif
	$(BIN)/python app.py

serve: $(VENV)/.installed
	$(BIN)/flask --app app db upgrade
	$(BIN)/flask --app app outbox work & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; trap 'exit 143' INT TERM; \
	  $(BIN)/gunicorn -c python:bot.gunicorn_settings --workers $(WORKERS) --bind $(HOST):$(PORT) 'app:create_app()'

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# `make audit` (run by CI before the tests): bandit's security rules through ruff (`S`), on the
# service's code (tests may assert, spawn processes and hold fake secrets), every finding fixed or
# justified where it is (`# noqa: S... reason`); then pip-audit, the runtime requirements against
# PyPI's advisory data (a dependency whose version PyPI does not know is listed, not audited).
audit: $(VENV)/.installed-dev
	$(BIN)/ruff check --no-cache --select S --exclude tests --exclude .venv --output-format concise .
	$(BIN)/pip-audit --requirement requirements.txt --progress-spinner off

# The hostile-input tests (hypothesis and schemathesis, tests/*/test_fuzz_*.py) with the "fuzz"
# profile: twenty times the examples `make test` runs, random, remembering failures in
# .hypothesis/; prints the inputs tried per target. FUZZ_EXAMPLES=N sets the examples per test.
FUZZ_TESTS := tests/bot/test_fuzz_webhooks.py tests/portal/test_fuzz_forms.py tests/portal/test_fuzz_api.py
fuzz: $(VENV)/.installed-dev
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest $(FUZZ_TESTS) $(PYTEST_ARGS)

# Extract every message id (prompts, choices, accepted answers, keywords), update each catalog,
# then compile them all to prove they are valid (the service itself reads the .po files).
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords -k N_ -k P_:1c,2 --add-comments=Translators: \
		--no-location --sort-output --omit-header -o i18n/messages.pot .
	$(BIN)/pybabel update -i i18n/messages.pot -d i18n/locales --no-fuzzy-matching \
		--ignore-obsolete --width 100
	$(BIN)/pybabel extract -F babel-portal.cfg --no-default-keywords -k _ -k gettext -k ngettext:1,2 \
		-k lazy_gettext --add-comments=Translators: --no-location --sort-output --omit-header \
		-o i18n/portal.pot .
	$(BIN)/pybabel update -D portal -i i18n/portal.pot -d i18n/locales -l my --no-fuzzy-matching \
		--ignore-obsolete --width 100 --init-missing
	$(BIN)/pybabel compile -d i18n/locales --statistics
	$(BIN)/pybabel compile -D portal -d i18n/locales --statistics

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'

# PyICU (Zawgyi conversion) compiles against ICU's headers. On Debian/Ubuntu as root they are
# installed here; elsewhere the message says what to install.
icu:
	@pkg-config --exists icu-uc 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing libicu-dev and pkg-config, which PyICU builds against"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libicu-dev pkg-config g++ >/dev/null; \
	  else \
	    echo "PyICU needs ICU's headers: install libicu-dev, pkg-config and g++ (Debian/Ubuntu) or icu4c (macOS)"; \
	    exit 1; \
	  fi; }

$(VENV)/.installed: requirements.txt | check-python icu
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache
