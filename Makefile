# Fresh machine: `make demo` (set up + smoke-train the StableLM card) or `make test`.
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export DS_ACCELERATOR := cpu
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export OMP_NUM_THREADS := 2
export TORCH_EXTENSIONS_DIR := $(CURDIR)/.cache/torch_extensions
export HF_HOME := $(CURDIR)/.cache/hf

.PHONY: demo test venv bench clean

$(VENV)/.installed: requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(VENV)/bin/cardrepro parse cards/stablelm-7b-sft.md --format text
	$(VENV)/bin/cardrepro audit cards/stablelm-7b-sft.md --fail-on never
	$(VENV)/bin/cardrepro build cards/stablelm-7b-sft.md -o generated/stablelm-7b-sft
	$(VENV)/bin/cardrepro run generated/stablelm-7b-sft --smoke

# 2 workers; --dist loadfile keeps a file's tests in one worker, so its module fixtures (a build,
# a smoke run) run once and the tests sharing them never race
test: venv
	$(VENV)/bin/cardrepro regen cards --check
	$(PY) -m pytest -q -n 2 --dist loadfile tests

bench: venv
	$(PY) bench/compile.py
	$(PY) bench/train.py

clean:
	rm -rf $(VENV) .cache
