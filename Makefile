# The two commands of the README. Everything installs into .venv beside this file.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test lint sample clean constraints translations

# Install capmap, create instance/capmap.sqlite, load the sample data, serve on 127.0.0.1:5000.
run: $(VENV)/.installed
	$(BIN)/capmap demo

# Install the test dependencies and run the whole suite. The browser tests (tests/browser) drive
# Debian's Chromium (apt-get install chromium) through Playwright and skip without it.
test: $(VENV)/.installed-test
	$(BIN)/ruff check src app tests bench
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src app tests bench

# Regenerate sample_geodata/ (byte for byte the committed files).
sample: $(VENV)/.installed
	$(BIN)/capmap generate-sample sample_geodata

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

# Extract the marked text into app/translations/messages.pot, merge it into each language's
# messages.po, and compile the .mo files the app reads (app/translations/README.md). The new
# template replaces the old only when more than its creation date differs, so that a run with
# nothing new leaves every file as it was.
POT = app/translations/messages.pot
translations: $(VENV)/.installed
	$(BIN)/pybabel extract --width 100 -F babel.cfg -k lazy_gettext -k _l --sort-by-file \
	  --project capmap --copyright-holder "capmap contributors" -o $(POT).new .
	if diff -q -I '^"POT-Creation-Date' $(POT) $(POT).new >/dev/null 2>&1; \
	  then rm $(POT).new; else mv $(POT).new $(POT); fi
	$(BIN)/pybabel update --width 100 -i $(POT) -d app/translations \
	  --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d app/translations --statistics

# Record the versions of a passing test environment for CI (.ci/run installs under them).
constraints: $(VENV)/.installed-test
	$(BIN)/python -m pip freeze --exclude-editable > constraints.txt

clean:
	rm -rf $(VENV) instance .pytest_cache
