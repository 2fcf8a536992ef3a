# The commands a newcomer and CI use. Everything runs from a local virtualenv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test venv lint format-check typecheck migrations-check pytest bench clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

## run: set up and serve the API on http://127.0.0.1:$(PORT)/ with the embedded SQLite database
run: venv
	DJANGO_DEBUG=true $(BIN)/python manage.py migrate --no-input
	DJANGO_DEBUG=true $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## test: lint, type-check, check migrations and run the whole test suite
test: lint format-check typecheck migrations-check pytest

lint: venv
	$(BIN)/ruff check .

format-check: venv
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy .

migrations-check: venv
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

pytest: venv
	$(BIN)/pytest

## bench: load benchmark against the anchors in ../shared/anchors (about 12 minutes; see bench/README.md)
## options: make bench BENCH_ARGS="--duration 3 --repeats 1 --no-scale"
bench: venv
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles
