#!/usr/bin/env bash
# Install ness_core into the fresh rule environment. Snakemake runs this from its working
# directory; run it from the repository or point NESS_SWEEP_SOURCE at the repository.
set -euo pipefail
python -m pip install --no-deps "${NESS_SWEEP_SOURCE:-$PWD}"
