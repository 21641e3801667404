# The course's commands. `make lab` and `make test` are the two a newcomer needs; both set up .venv first
# (once: a second run skips the installation unless pyproject.toml changed).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROXY  := configurable-http-proxy@5.3.0
PORT   ?= 8888
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)  # Jupyter refuses root without it (containers)
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# Two workers, each taking whole files (a notebook's cells must run in order, in one kernel).
PARALLEL := -n 2 --dist loadfile
# Printed numbers must not depend on how BLAS splits a matrix product: the notebooks run under two thread counts.
BLAS_THREADS = OPENBLAS_NUM_THREADS=$(1) OMP_NUM_THREADS=$(1) MKL_NUM_THREADS=$(1)

.PHONY: lab present test test-fast nbval solutions labs release grade benchmarks clean help

help:
	@echo "make lab         install (once) and open JupyterLab at the course's start page"
	@echo "make present     serve the lecture dashboards with Voila (prints the address)"
	@echo "make test        install (once) and run the whole suite: unit, widget, notebook and browser tests"
	@echo "make test-fast   the suite without the browser and notebook tests"
	@echo "make nbval       strict nbval on the solution notebooks, under 1 and 3 BLAS threads"
	@echo "make solutions   re-execute the solution notebooks in place (then make labs)"
	@echo "make labs        rebuild labs/ from solutions/"
	@echo "make release     write the student bundle: dist/training-nets-course/ and its .tar.gz"
	@echo "make grade SUBMISSIONS=folder   grade submitted labs into grades/ (course.grade)"
	@echo "make benchmarks  measure explorer latency (in process and in Chromium), conv, training, grading, hub"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python >= 3.10 is needed; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@if command -v npm >/dev/null 2>&1; then npm install --prefix $(VENV) --silent --no-audit --no-fund $(PROXY); \
	 else echo "no npm: the JupyterHub test will be skipped (it needs $(PROXY) from the npm registry)"; fi
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --port=$(PORT) $(ROOT_FLAG) --LabApp.default_url=/lab/tree/labs/00_start_here.ipynb

present: $(STAMP)
	$(BIN)/python tools/present.py

test: $(STAMP)
	$(call BLAS_THREADS,1) MPLBACKEND=Agg $(BIN)/python -m pytest $(PARALLEL) tests solutions $(NBVAL)
	$(call BLAS_THREADS,3) MPLBACKEND=Agg $(BIN)/python -m pytest $(PARALLEL) solutions $(NBVAL)

test-fast: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest $(PARALLEL) tests -m "not browser and not slow"

nbval: $(STAMP)
	$(call BLAS_THREADS,1) MPLBACKEND=Agg $(BIN)/python -m pytest $(PARALLEL) solutions $(NBVAL)
	$(call BLAS_THREADS,3) MPLBACKEND=Agg $(BIN)/python -m pytest $(PARALLEL) solutions $(NBVAL)

solutions: $(STAMP)
	cd solutions && env -u MPLBACKEND ../$(BIN)/jupyter nbconvert --to notebook --execute --inplace *.ipynb

labs: $(STAMP)
	$(BIN)/python tools/build_labs.py

release: $(STAMP)
	$(BIN)/python tools/release.py

grade: $(STAMP)
	$(BIN)/python -m course.grade $(SUBMISSIONS) --out grades

benchmarks: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) test-artifacts
