# ness-sweep: `make run` runs the default pipeline, `make test` the whole test suite.
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
CORES   ?= all
PROFILE := --workflow-profile workflow/profiles/default
# Jobs and test workers already use every core: one BLAS thread each avoids oversubscription.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: install run report test test-cluster lint clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,cluster]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/snakemake --cores $(CORES) $(PROFILE)
	$(BIN)/snakemake --cores $(CORES) $(PROFILE) --report results/report.html

test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15

# A single-node SLURM on this machine (root; installs slurm-wlm + munge), then a tiny study
# through workflow/profiles/slurm (as shipped, with --jobs 2 below the 5 ready jobs, and with
# simulate as one SLURM array), each compared with a local run.
test-cluster: install
	bash tests/cluster/slurm-up
	NESS_TEST_SLURM=1 $(BIN)/python -m pytest -s tests/cluster/test_slurm.py

lint: install
	$(BIN)/ruff check ness_core tests workflow benchmarks
	$(BIN)/snakemake --lint

clean:
	rm -rf results .snakemake
