# QuickConnect Support Assistant: developer commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

# Rasa 3.6 runs here on Python 3.11 only (see DEVELOPERS.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .stamps
# The project's spaCy pipeline folder; the version in the name is set in config.yml.
SPACY_MODEL := $(shell grep -o 'spacy_models/qc_en_v[0-9]*' config.yml | head -n 1)
MODEL := models/quickconnect.tar.gz
TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null)

export PYTHONPATH := $(CURDIR)
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
# TensorFlow's oneDNN kernels choose code paths by CPU (AVX2, AVX-512, AMX), so the same data
# and seeds trained different models on different machines of the same kind. Off: the same
# kernels everywhere, for training, tests and the servers (see docs/nlu-experiments.md).
export TF_ENABLE_ONEDNN_OPTS := 0
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: help install spacy seed train run jobs outbox test lint format validate pytest story-test clean
.PHONY: test-conversations test-conversations-postgres test-conversations-nospeedups eval eval-ci bench bench-saturation bench-smoke
.PHONY: test-faults soak test-replicas

help: ## List the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: $(STAMPS)/installed ## Create .venv and install the locked dependencies

$(STAMPS)/installed: requirements/lock.txt ops/check_python.py
	@$(PYTHON) ops/check_python.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python ops/check_python.py
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --ignore-requires-python -r requirements/lock.txt
	@mkdir -p $(STAMPS) && touch $@

spacy: $(SPACY_MODEL)/meta.json ## Build the project's spaCy pipeline (tokenizer + entity patterns)

$(SPACY_MODEL)/meta.json: $(STAMPS)/installed $(wildcard quickconnect/nlp/*.py) quickconnect/catalog.py
	$(BIN)/python -m quickconnect.nlp.build_pipeline --output $(SPACY_MODEL)

seed: $(STAMPS)/installed ## Migrate the database and load the demo data (idempotent)
	$(BIN)/python -m quickconnect.seed

train: $(MODEL) ## Train the model if the training data, domain or config changed

$(MODEL): $(TRAINING_INPUTS) $(SPACY_MODEL)/meta.json
	$(BIN)/rasa train --config config.yml --domain domain.yml --data data \
		--out models --fixed-model-name quickconnect
	@touch $@

run: seed train ## Set everything up, start the action server, the Rasa server and the outbox worker (Ctrl-C stops)
	$(BIN)/python -m ops.serve

jobs: $(STAMPS)/installed ## Run due scheduled work now: booked plan changes, add-ons due to go live
	$(BIN)/python -m quickconnect.jobs run-due

outbox: $(STAMPS)/installed ## Send the due emails and SMS now and exit (make run keeps a worker sending them)
	$(BIN)/python -m quickconnect.outbox run --once --jobs-every 0

lint: $(STAMPS)/installed ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMPS)/installed ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

validate: $(STAMPS)/installed ## rasa data validate; any warning fails
	$(BIN)/rasa data validate --config config.yml --domain domain.yml --data data --fail-on-warnings

pytest: train ## pytest: services on SQLite and PostgreSQL, then the real servers end to end
	$(BIN)/pytest --ignore=tests/faults --ignore=tests/replicas

# Fault and bad-input tests (tests/faults/, README "Fault tests"): their own two stacks, with
# PostgreSQL and Redis behind a proxy the tests cut. FAULTS_SOAK_SECONDS sets the soak.
FAULTS_SOAK_SECONDS ?= 60
test-faults: train ## Faults on both real stacks (crashes, outages, double yes, short soak) and fuzzing
	FAULTS_SOAK_SECONDS=$(FAULTS_SOAK_SECONDS) $(BIN)/pytest tests/faults -m faults -s

# Replicas (tests/replicas/, README "Replicas"): two Rasa servers and two action servers on
# PostgreSQL + Redis behind HAProxy (deploy/haproxy/haproxy.cfg; apt-get install haproxy).
test-replicas: train ## Two replicas of each server behind HAProxy: live handoff across them, REST round robin
	$(BIN)/pytest tests/replicas -m replicas -s

soak: train ## The 10-minute soak: 20 customers at a person's pace on each stack, RSS growth
	FAULTS_SOAK_SECONDS=600 $(BIN)/pytest tests/faults/test_soak.py -m faults -s

story-test: train ## rasa test on the test stories; any prediction error or broken reply fails
	$(BIN)/rasa test core --model $(MODEL) --stories tests/stories \
		--fail-on-prediction-errors --out results/core
	$(BIN)/python -m qa.story_replies tests/stories

test-conversations: train ## Live conversation tests (tests/conversations/*.yml) on the real servers
	$(BIN)/python -m qa.conversations

test-conversations-postgres: train ## The same on PostgreSQL (account DB and tracker store)
	$(BIN)/python -m qa.conversations --backend postgres

test-conversations-nospeedups: train ## The same on Rasa's own code (QC_SPEEDUPS=0): checks a Rasa upgrade fast
	QC_SPEEDUPS=0 $(BIN)/python -m qa.conversations

eval: $(SPACY_MODEL)/meta.json ## NLU report on the test sets (results/eval/); trains nothing
	$(BIN)/python -m qa.nlu_eval

# CI: the project's own NLU test sets with the targets enforced (EVAL_GATE= only reports).
# The openings gate guards against a fall from the 0.947 of 2026-12-04 (its target is 0.95).
EVAL_GATE ?= --min-accuracy 0.95 --max-in-scope-fallback 0.03 --min-openings-accuracy 0.93
eval-ci: train
	$(BIN)/python -m qa.nlu_eval --sets project,openings $(EVAL_GATE)

bench: train ## Capacity at p95 <= 300 ms, a person's pace: QuickConnect and rasa init, SQLite and PostgreSQL + Redis, two replicas (about 45 min)
	$(BIN)/python -m qa.capacity

bench-saturation: train ## The older benchmark: 10 customers with no think time, /model/parse floor, rasa init, train time
	$(BIN)/python -m qa.bench

bench-smoke: train ## Tiny benchmarks, part of make test: saturation on SQLite, one capacity level on each store (errors fail it, timing never does)
	$(BIN)/python -m qa.bench --smoke
	$(BIN)/python -m qa.capacity --smoke --phases quickconnect-sqlite,quickconnect-postgres

test: lint validate pytest test-faults test-replicas story-test test-conversations test-conversations-postgres test-conversations-nospeedups eval-ci bench-smoke ## Lint, validate, pytest, faults, replicas, rasa test, conversations (SQLite, PostgreSQL, no speed-ups), NLU eval, bench smoke (the CI command)

clean: ## Remove built artefacts (not .venv)
	rm -rf models/*.tar.gz spacy_models results .rasa .pytest_cache var/log
