# The two commands of the README: `make run` and `make test`. Both set up first.
.PHONY: setup run test test-slow test-ci test-all lint train eval bench bot worker corpus

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/isadei compose "a folk song" --out out --seed 1

test: setup
	.venv/bin/ruff check .
	.venv/bin/python -m pytest

# The slow reliability tests (kill -9, Redis outage, 100 requests): CI runs them after `test`.
test-slow: setup
	.venv/bin/python -m pytest -m slow

test-ci: test test-slow

test-all: setup
	.venv/bin/python -m pytest -m ""

lint: setup
	.venv/bin/ruff check .

corpus: setup
	.venv/bin/isadei corpus

train: setup
	.venv/bin/isadei train

eval: setup
	.venv/bin/isadei eval songs --seeds 8  # one seed's 12 songs a style move a style's numbers by +-0.05
	.venv/bin/isadei eval

bench: setup
	.venv/bin/isadei bench

bot: setup
	.venv/bin/isadei bot

worker: setup
	.venv/bin/isadei worker

# The gettext catalogues (composer/locales, bot/telegram/locales): new msgids from the code in.
# The .po files are read as they are at start-up: nothing to compile.
messages: setup
	.venv/bin/python -m composer.catalogue
