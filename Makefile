# Two commands do everything on a fresh machine:
#   make run   the whole stack on SQLite with a simulated SMS network (no Twilio account needed)
#   make test  every test (unit, actions, Rasa data and stories, end-to-end)
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/can005.tar.gz
SAFETY_MODEL := models/safety.pkl
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

# Rasa 3.6 needs Python 3.10: the first of python3.10 on PATH or pyenv's 3.10s that really runs
# as 3.10 (a pyenv shim may not), else PYTHON310=/path/to/python3.10.
PYTHON310 ?= $(shell for p in python3.10 $$(ls -d $(HOME)/.pyenv/versions/3.10.*/bin/python 2>/dev/null | sort -rV); do \
  if "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; then command -v "$$p"; break; fi; done)

.PHONY: help venv model run lint test test-unit test-rasa test-clock bench clean

help:
	@echo "make run    start the assistant with a simulated SMS network (see README)"
	@echo "make test   run every test"
	@echo "make bench  measure turn latency and training time"
	@echo "make model  train the Rasa model and the safety classifier"

$(VENV)/.installed: requirements.lock pyproject.toml
	@if [ -z "$(PYTHON310)" ]; then \
	  echo "error: Python 3.10 not found. Rasa 3.6 runs only on Python 3.8-3.10." >&2; \
	  echo "Install it (for example 'pyenv install 3.10') or run: make PYTHON310=/path/to/python3.10 ..." >&2; \
	  exit 1; fi
	@"$(PYTHON310)" -c 'import sys; assert sys.version_info[:2] == (3, 10), sys.version' \
	  || { echo "error: $(PYTHON310) is not Python 3.10" >&2; exit 1; }
	@echo "== creating the virtual environment with $(PYTHON310) (first time: about 2 minutes)"
	@test -x $(PY) || "$(PYTHON310)" -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

venv: $(VENV)/.installed

# Retrain only when the data or the configuration changed. Training skips Rasa's data validation
# (about 4 s): `make test` runs the stricter `rasa data validate --fail-on-warnings` on the same data.
# bench/turn_latency.py times exactly this command (TRAIN_ARGS there).
$(MODEL): $(VENV)/.installed config.yml domain.yml $(wildcard data/nlu/*.yml) $(wildcard stories/*.yml)
	@echo "== training the Rasa model"
	$(RASA) train --data data stories --skip-validation --fixed-model-name can005 --out models --quiet

# The safety screen's second net (bot/safety/model.py): about 40 s. Its thresholds are chosen with the
# rules' flags, so it is rebuilt when the rules change too.
$(SAFETY_MODEL): $(VENV)/.installed bot/safety/model.py bot/safety/rules.py bot/safety/triggers.py bot/safety/vocabulary.py \
  bot/safety/context.py $(wildcard data/safety/writers/*.csv)
	@echo "== training the safety classifier"
	$(PY) -m bot.safety.model train --out $@

model: $(MODEL) $(SAFETY_MODEL)

run: $(MODEL) $(SAFETY_MODEL)
	$(PY) -m devkit.demo

test-rasa: $(MODEL)
	@echo "== rasa data validate"
	$(RASA) data validate --data data stories --fail-on-warnings --quiet
	@echo "== rasa test (tests/test_stories.yml)"
	$(RASA) test core --stories tests/test_stories.yml -m $(MODEL) --fail-on-prediction-errors --out results --quiet

# The inbox's browser tests drive Debian's chromium (Playwright's own browser download cannot work here).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(CHROMIUM):
	@echo "== installing Debian's chromium for the browser tests"
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null

# Two pytest workers (pytest-xdist): most tests wait on real processes (Rasa, the gateway, chromium),
# so two at a time take about four fifths of the time of one on 2 cores. Each worker starts its own
# stacks and databases; more workers need about 2 GB of memory each. TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
test-unit: $(MODEL) $(SAFETY_MODEL) $(CHROMIUM)
	$(PY) -m pytest $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS))

# The unit tests whose rules read the clock, run again at instants where calendars go wrong
# (London wall-clock time unless an offset is given; tests/pinned_clock.py pins them). The whole
# suite runs at a Thursday 10:30 (tests/pinned_clock.py DEFAULT_INSTANT). On SQLite only, two at
# a time: under 3 minutes on 2 cores. Add an instant here when a rule meets a new calendar edge.
CLOCK_INSTANTS := \
  2026-12-03T08:30 2026-12-03T20:30 \
  2026-12-25T10:30 \
  2027-03-28T00:30 2027-03-28T02:30 \
  2027-10-31T00:30+01:00 2027-10-31T02:30+00:00 \
  2027-03-31T23:30 \
  2026-12-06T03:00
CLOCK_TESTS := tests/test_booking.py tests/test_cohort_and_window.py tests/test_dates.py \
  tests/test_reminders_and_record.py tests/test_reporting.py tests/test_export.py tests/test_retention.py \
  tests/test_register.py tests/test_sender.py tests/test_actions_checkin_booking.py tests/test_concerns.py

# `pipefail` so that a failing run fails make; xargs -P2 runs two instants at a time and exits
# non-zero when any run failed. Each run's output is printed whole, when it ends.
test-clock: $(MODEL)
	@echo "== the clock-dependent unit tests at $(words $(CLOCK_INSTANTS)) fixed instants, two at a time"
	@printf '%s\n' $(CLOCK_INSTANTS) | xargs -P2 -I{} bash -c 'set -o pipefail; \
	  out=$$($(PY) -m pytest -q -p no:cacheprovider -m "not e2e" -k "not postgresql and not fifty_thousand" \
	    --clock={} $(CLOCK_TESTS) 2>&1); rc=$$?; \
	  printf "== at %s\n%s\n" {} "$$(printf "%s\n" "$$out" | grep -v "^[.sxF]*\( *\[ *[0-9]*%\]\)\?$$" | tail -n 40)"; exit $$rc'

# ruff (the checks chosen in pyproject.toml) and mypy on the product's code: a few seconds.
lint: $(VENV)/.installed
	@echo "== ruff check and mypy"
	$(PY) -m ruff check bot actions devkit
	$(PY) -m mypy

test: lint test-rasa test-unit test-clock

bench: $(MODEL)
	$(PY) bench/turn_latency.py

clean:
	rm -rf $(VENV) models results var .pytest_cache .hypothesis
