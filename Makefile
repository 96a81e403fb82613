# The README's two commands are `make run` and `make test`; everything else is a building block.
# Each target does whatever set-up is missing, so both work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Rasa 3.6 needs Python < 3.11; .python-version makes pyenv's python3 resolve to 3.10.
PYTHON ?= $(shell command -v python3.10 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# TensorFlow 2.12 lists JAX as a dependency but only tries to import it (tf.lite's JAX converter,
# never used here); installed, it costs the Rasa server 64 MB of memory (BENCHMARKS.md).
NOT_INSTALLED := jax jaxlib ml_dtypes
space := $(subst ,, )
# Rasa through server/rasa_cli.py: the same CLI, with server.install() first (server/__init__.py: checked
# replacements of Rasa internals for the server, no TensorFlow in it; skops' cached trusted types).
RASA := $(BIN)/python -m server.rasa_cli
INSTALLED := $(VENV)/.installed
# skops' trusted type lists, computed once per installation (server/skops_types.py).
SKOPS_TYPES := $(VENV)/share/iom/skops-trusted-types.json
MODEL_STAMP := models/.trained
# The chat page's widget (rasa-webchat), installed from web/package-lock.json.
NODE_STAMP := web/node_modules/.installed
# Everything that changes the trained model; the facts file is deliberately NOT here:
# answers are read at run time, so editing a fact never needs retraining.
TRAIN_INPUTS := config.yml domain.yml $(shell find data components -type f \( -name '*.yml' -o -name '*.py' \) 2>/dev/null | sort)

export PYTHONDONTWRITEBYTECODE := 1
# Rasa's telemetry would try to reach the internet; keep logs short and offline.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: help system-deps install train run shell test lint validate test-nlu test-py lock check-facts clean services run-scaled bench-scaled bench bench-start bench-levers audit purge forget review soak

help:
	@echo "make run    - set up, train if needed, start the assistant (REST + web chat)"
	@echo "make test   - set up, train if needed, run every test"
	@echo "make shell  - chat with the assistant in the terminal"
	@echo "make review - reports/review.html: what people asked, what went unanswered"
	@echo "make purge / make forget SENDER=<id> - delete old conversations / one conversation"
	@echo "make install / make train - building blocks"

install: $(INSTALLED) $(SKOPS_TYPES) $(NODE_STAMP) system-deps

$(SKOPS_TYPES): $(INSTALLED) server/skops_types.py
	@$(BIN)/python -m server.skops_types > /dev/null

$(NODE_STAMP): web/package.json web/package-lock.json
	@command -v npm > /dev/null || { echo "npm is needed for the chat page's widget (install Node.js 18+)"; exit 1; }
	cd web && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

system-deps:
	@scripts/system-deps.sh

$(INSTALLED): requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 10), "Python 3.10 is required (see .python-version)"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	@# Left out of the lock on purpose (requirements.in, "Not installed"); gone from older venvs too.
	@$(BIN)/pip uninstall --quiet --disable-pip-version-check -y $(NOT_INSTALLED) 2>/dev/null || true
	@touch $@

train: $(MODEL_STAMP)

$(MODEL_STAMP): $(INSTALLED) $(TRAIN_INPUTS) | $(SKOPS_TYPES)
	@mkdir -p models
	@echo "Training (log: models/train.log)..."
	@start=$$(date +%s); \
	  $(RASA) train --fixed-model-name iom --out models > models/train.log 2>&1 \
	  || { tail -40 models/train.log; echo "Training failed; see models/train.log" >&2; exit 1; }; \
	  echo "Trained models/iom.tar.gz in $$(( $$(date +%s) - start )) s"
	@touch $@

run: install train
	@scripts/run.sh

shell: install train
	@scripts/run.sh --shell

# Known vulnerabilities in the pins: offline floor check + pip-audit (see SECURITY-ADVISORIES.md).
audit: install
	@scripts/audit.sh

lint: install
	$(BIN)/ruff check .

validate: install
	$(RASA) data validate --fail-on-warnings

test-nlu: train
	$(BIN)/python tests/tools/evaluate_holdout.py --model models/iom.tar.gz --min-accuracy 0.90 --public-min-accuracy 0.85

test-py: train services
	$(BIN)/python -m pytest

test: install train lint validate audit test-nlu test-py

# Rebuild requirements.lock from requirements.in in a throw-away venv.
lock:
	rm -rf /tmp/iom-lock-venv && $(PYTHON) -m venv /tmp/iom-lock-venv
	/tmp/iom-lock-venv/bin/pip install --quiet -r requirements.in
	{ echo "# Generated: pip freeze of a Python 3.10 venv built from requirements.in, minus"; \
	  echo "# $(NOT_INSTALLED) (see requirements.in). Installed with --no-deps: this"; \
	  echo "# list is complete. Regenerate with 'make lock' after changing requirements.in."; \
	  /tmp/iom-lock-venv/bin/pip freeze | grep -v '^pip==\|^setuptools==\|^wheel==' \
	  | grep -v -i -E '^($(subst $(space),|,$(NOT_INSTALLED)))=='; } > requirements.lock

# Validates facts/facts.yml and facts/states.tsv, then lists the facts whose as_of is older than
# FACTS_MAX_AGE_MONTHS (default 12) as "to re-check" (advice, not a failure): actions/check_facts.py.
check-facts: install
	$(BIN)/python -m actions.check_facts

# Scaling out (docs/operating.md, "Scaling out"): PostgreSQL + Redis on 127.0.0.1, started if down.
services:
	@scripts/services.sh

# N Rasa servers + M action servers behind nginx: make run-scaled RASA_SERVERS=3 ACTION_SERVERS=2
run-scaled: install train services
	@scripts/run_scaled.sh

# Seconds from `make run` to the first answer, the whole command timed (bench/start.py).
bench-start: install train
	$(BIN)/python bench/start.py

# Throughput with 1 and 2 Rasa servers behind nginx (BENCH_SECONDS, BENCH_CLIENTS).
bench-scaled: install train services
	$(BIN)/python bench/scaled.py

# Stock `rasa init` bot vs ours, side by side (BENCHMARKS.md). Slow (~10 min); not part of `make test`.
# Prints the previous run's figures (results/bench.json) next to the new ones, then keeps the new.
bench: install
	$(BIN)/python bench/versus_stock.py --previous results/bench.json --json results/bench.json

# CPU per message of the Rasa server with each of server/'s replacements of Rasa internals (~10 min).
bench-levers: install train
	$(BIN)/python bench/levers.py

# Privacy and review (docs/privacy.md; docs/editing-facts.md, "Reviewing conversations").
# ENDPOINTS chooses the tracker store: endpoints.yml (SQLite tracker.db) or deploy/endpoints.yml
# (PostgreSQL, DB_* set).
ENDPOINTS ?= endpoints.yml

# Deletes conversations with no message in the last IOM_RETENTION_DAYS days (default 90).
purge: install
	$(BIN)/python -m privacy.purge --endpoints $(ENDPOINTS)

# Deletes one person's conversation: make forget SENDER=<conversation id, WhatsApp number
# (whatsapp:+33612345678 or +33612345678) or Telegram chat id>; WhatsApp and Telegram
# conversations are stored under a keyed pseudonym: run with the servers' IOM_SENDER_KEY (or
# TWILIO_AUTH_TOKEN / TELEGRAM_TOKEN).
forget: install
	@if [ -z "$(SENDER)" ]; then echo "Usage: make forget SENDER=<conversation id>" >&2; exit 2; fi
	$(BIN)/python -m privacy.forget --endpoints $(ENDPOINTS) -- "$(SENDER)"

# reports/review.html, unanswered.csv, unanswered_nlu.yml for the last DAYS days (default 7) or
# from SINCE=YYYY-MM-DD.
review: install
	$(BIN)/python -m review --endpoints $(ENDPOINTS) $(if $(SINCE),--since $(SINCE),--days $(or $(DAYS),7)) --out reports

# `make run` under steady mixed traffic (SOAK_MINUTES, default 10; SOAK_RATE messages/s, default
# auto = 70% of the server's throughput with 20 users, measured first): errors, latency and
# memory per minute (BENCHMARKS.md).
soak: install train
	$(BIN)/python bench/soak.py

clean:
	rm -rf models results .pytest_cache
