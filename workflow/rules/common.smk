# Helpers: config validation, the chunk plan, and input functions. Nothing here computes.
import sys
from pathlib import Path

import jsonschema
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from ness_core import sweep


def load_studies(config):
    """Schema check (fills defaults), then model-level checks; a bad config exits cleanly."""
    try:
        validate(config, schema="../schemas/config.schema.yaml", set_default=True)
        return sweep.parse_config(config)
    except WorkflowError as error:
        cause = error.__context__  # snakemake wraps the jsonschema error
        if isinstance(cause, jsonschema.ValidationError):
            text = sweep.describe_schema_error(cause)
        else:
            text = str(error)
    except sweep.ConfigError as error:
        text = str(error)
    sys.exit(f"config error: {text}")


STUDIES = load_studies(config)
# Chunk ids per study; manifests of new chunks are written here, before any job runs.
CHUNKS = {
    name: [chunk.id for chunk in sweep.plan_study(study, Path("results", name, "chunks"))]
    for name, study in STUDIES.items()
}
FIGURES = {
    name: {sweep.figure_name(fig): fig for fig in study.figures}
    for name, study in STUDIES.items()
}


wildcard_constraints:
    study="|".join(STUDIES),
    chunk="[0-9a-f]+",
    figure="[A-Za-z0-9_.+-]+",


def chunk_files(wildcards):
    return expand(
        "results/{study}/chunks/{chunk}.nc",
        study=wildcards.study,
        chunk=CHUNKS[wildcards.study],
    )


def figure_files(study, ext):
    return expand(
        "results/{study}/figures/{figure}.{ext}",
        study=study,
        figure=FIGURES[study],
        ext=ext,
    )


def all_datasets():
    return expand("results/{study}/dataset.nc", study=STUDIES)


def all_figures():
    return [f for study in STUDIES for f in figure_files(study, ["png", "pdf"])]


def all_outputs():
    return all_datasets() + all_figures() + ["results/report/index.html"]


def study_grid(study):
    """The part of a study's config that defines its dataset (not figures or chunking)."""
    spec = config["studies"][study]
    return {key: spec[key] for key in ("model", "sweep", "fixed")}
