# ness-sweep: `make run` runs the default pipeline, `make test` the whole test suite.
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# Every package pinned (`==`) for CPython 3.11 on Linux x86_64; `make lock` refreshes it.
LOCK    := requirements.lock
UV      := $(VENV)/tools/bin/uv
CORES   ?= all
PROFILE := --workflow-profile workflow/profiles/default
# Jobs and test workers already use every core: one BLAS thread each avoids oversubscription.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: install lock run papers report test test-cluster lint clean

# The pinned packages, then ness_core itself (editable, built with the pinned setuptools
# and setuptools-scm, which stamps the version from git).
$(STAMP): pyproject.toml $(LOCK)
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# Re-resolve requirements.lock from pyproject.toml (runtime + test + cluster extras) with uv
# from PyPI, keeping the pins that still fit; `make lock LOCK_ARGS=--upgrade` takes the newest.
$(UV):
	python3 -m venv $(VENV)/tools
	$(VENV)/tools/bin/python -m pip install --quiet uv

lock: $(UV)
	$(UV) pip compile pyproject.toml --extra test --extra cluster --python-version 3.11 \
	    --python-platform x86_64-unknown-linux-gnu --custom-compile-command "make lock" \
	    --quiet $(LOCK_ARGS) -o $(LOCK)

run: install
	$(BIN)/snakemake --cores $(CORES) $(PROFILE)
	$(BIN)/snakemake --cores $(CORES) $(PROFILE) --report results/report.html

# Every paper config at once (their studies and comparisons have distinct names).
papers: install
	$(BIN)/snakemake --cores $(CORES) $(PROFILE) --configfile config/papers/*.yaml
	$(BIN)/snakemake --cores $(CORES) $(PROFILE) --configfile config/papers/*.yaml \
	    --report results/papers.html

test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15

# A single-node SLURM on this machine (root; installs slurm-wlm + munge), then a tiny study
# through workflow/profiles/slurm (as shipped, with --jobs 2 below the 5 ready jobs, and with
# simulate as one SLURM array), each compared with a local run; then stops the daemons and
# removes the slurm.conf again (tests/cluster/slurm-down: a stale one slows every snakemake).
test-cluster: install
	bash tests/cluster/slurm-up
	NESS_TEST_SLURM=1 $(BIN)/python -m pytest -s tests/cluster/test_slurm.py; \
	status=$$?; bash tests/cluster/slurm-down; exit $$status

lint: install
	$(BIN)/ruff check ness_core tests workflow benchmarks
	$(BIN)/snakemake --lint

clean:
	rm -rf results .snakemake
