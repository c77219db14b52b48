#!/usr/bin/env bash
# Install ness_core into the fresh rule environment. Snakemake runs a copy of this script
# (in .snakemake/conda/) from the run's working directory, so the script cannot find the
# checkout it came from: NESS_SWEEP_SOURCE names it (a checkout or a wheel); without it the
# working directory is used only if it is a ness-sweep checkout, never any other directory.
set -euo pipefail
source_dir="${NESS_SWEEP_SOURCE:-$PWD}"
if [[ -d "$source_dir" ]] && ! grep -qs '^name = "ness-sweep"' "$source_dir/pyproject.toml"; then
  echo "ness.post-deploy.sh: $source_dir is not a ness-sweep checkout;" \
       "set NESS_SWEEP_SOURCE to one (or to a ness-sweep wheel)" >&2
  exit 1
fi
python -m pip install --no-deps "$source_dir"
