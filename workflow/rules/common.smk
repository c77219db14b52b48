# Helpers: config validation, the chunk plan, and input functions. Nothing here computes.
import json
import os
import re
import sys
from pathlib import Path

from snakemake.utils import update_config

from ness_core import configs, figures, resources, sweep


def workflow_file(relative):
    """A file of this workflow, ``relative`` to workflow/rules/, as a local path.

    The workflow may be a checkout (or a module given by a local path) or fetched by
    Snakemake (a module given as github(...)): workflow.source_path gives the local file in
    the first case and Snakemake's cached copy in the second.
    """
    return Path(workflow.source_path(relative))


def workflow_captions():
    """The workflow's caption directory (workflow/report/) as a local directory.

    A fetched workflow has no directory on disk (Snakemake caches single files), so its
    captions are the installed library's copies of the same files (ness_core.resources).
    """
    basedir = workflow.current_basedir
    if isinstance(basedir, (str, os.PathLike)):
        return Path(basedir, "..", "report").resolve()
    return resources.WORKFLOW / "report"


def results_path(relative):
    """``relative`` (a path under results/) where the rules' outputs are: under a module's
    ``prefix:`` (or ``replace_prefix:``) when the workflow is used as a module."""
    return Path(workflow.modifier.path_modifier.replace_prefix(relative))


SCHEMA = workflow_file("../schemas/config.schema.yaml")
CAPTIONS = workflow_captions()

# The config when no --configfile is given: the working directory's, else the workflow's.
DEFAULT_CONFIG = "config/config.yaml"


def read_config(config):
    """The run's config, read as ``ness plan`` reads it; a bad file exits with one line.

    Files given with --configfile are read again strictly (configs.read_config_file), so a
    file gets the same verdict here as from ``ness plan``; they alone make the config. With
    none, DEFAULT_CONFIG is read strictly (never by Snakemake's own loader, which would
    expand aliases and run YTE templates) and --config values override it. Used as a module
    with `config:`, the including workflow's config is the config (checked next, as any).
    """
    if workflow.modifier.skip_configfile:
        return
    try:
        given = list(workflow.overwrite_configfiles)
        for path in given:
            configs.read_config_file(path)
        if not given:
            default = Path(DEFAULT_CONFIG)
            if not default.is_file():
                default = workflow_file(f"../../{DEFAULT_CONFIG}")
            base = configs.read_config_file(default)
            update_config(base, config)
            config.clear()
            config.update(base)
    except configs.ConfigError as error:
        sys.exit(f"config error: {error}")


def load_studies(config):
    """Schema check (fills defaults), then model-level checks; a bad config exits cleanly."""
    try:
        return configs.load_config(config, SCHEMA, captions=CAPTIONS)
    except configs.ConfigError as error:
        sys.exit(f"config error: {error}")


read_config(config)
STUDIES = load_studies(config)


def plan_chunks(studies):
    """Chunks per study, planned against the manifests and results already written.

    The run's own planning (not a cluster job re-parsing this file) moves corrupt chunk
    results and unreadable manifests aside, so their points are computed again; an
    unwritable results/ stops the run with one line naming the directory.
    """
    try:
        return {
            name: {chunk.id: chunk for chunk in sweep.plan_study(
                study, results_path(f"results/{name}/chunks"), verify=workflow.is_main_process,
                write=False)}
            for name, study in studies.items()
        }
    except OSError as error:
        sys.exit(f"error: {error}")


# Chunks per study (id → chunk). Planning writes no manifest: rule manifests (simulate.smk)
# does, as a job, so a dry run (which Snakemake decides only after this file is read)
# writes nothing.
CHUNKS = plan_chunks(STUDIES)
FIGURES = {
    name: {figures.figure_name(fig): fig for fig in study.figures}
    for name, study in STUDIES.items()
}


# Comparisons across studies (name → spec with defaults; checked by configs.load_config).
COMPARISONS = config.get("comparisons") or {}


def comparison_datasets(name):
    studies = dict.fromkeys(curve["study"] for curve in COMPARISONS[name]["curves"])
    return expand("results/{study}/dataset.nc", study=studies)


def comparison_references(name):
    curves = COMPARISONS[name]["curves"]
    # absolute: a module prefix would move relative paths, and they are the user's files
    return list(dict.fromkeys(str(Path(c["reference"]["file"]).absolute())
                              for c in curves if c.get("reference")))


wildcard_constraints:
    study="|".join(re.escape(name) for name in STUDIES),
    chunk="[0-9a-f]+",
    figure=configs.NAME_PATTERN,


def chunk_manifest(study, chunk):
    return f"results/{study}/chunks/{chunk}.json"


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


def all_comparisons():
    return expand("results/comparisons/{comparison}.{ext}", comparison=COMPARISONS,
                  ext=["png", "pdf", "json"])


def all_outputs():
    return (all_datasets() + all_figures() + all_comparisons() + ["results/report/index.html"]
            + all_refinements())


def study_grid(study):
    """The part of a study's config that defines its dataset (not figures or chunking).

    The model is the validated study's: for a user-defined network the name holds the whole
    normalised network (an SBML file already read), so a changed network rebuilds the dataset
    and the gather job needs no file but its chunks.
    """
    spec = config["studies"][study]
    grid = {"model": STUDIES[study].model, "sweep": spec["sweep"], "fixed": spec["fixed"]}
    return {**grid, "refine": spec["refine"]} if spec.get("refine") else grid


# Adaptive refinement (rules in refine.smk): rounds are checkpoint jobs.
REFINED = [name for name, study in STUDIES.items() if study.refine]


def _round_record(study, r):
    """Round r's record; raises Snakemake's incomplete-checkpoint signal until it exists."""
    path = checkpoints.refine_round.get(study=study, round=r).output[0]
    with open(path) as fh:
        return path, json.load(fh)


def _refined_chunk_files(study, record):
    return expand("results/{study}/chunks/{chunk}.nc", study=study, chunk=record["chunks"])


def refine_round_chunks(wildcards):
    """The grid's chunks, and from round 1 on the previous round's refinement chunks."""
    r = int(wildcards.round)
    if r == 0:
        return chunk_files(wildcards)
    record = _round_record(wildcards.study, r - 1)[1]
    return chunk_files(wildcards) + _refined_chunk_files(wildcards.study, record)


def refine_round_previous(wildcards):
    """The previous round's record (none for round 0)."""
    r = int(wildcards.round)
    return [] if r == 0 else [_round_record(wildcards.study, r - 1)[0]]


def last_round(study):
    """(path, record) of the study's last round (the first that proposes nothing)."""
    r = 0
    while True:
        path, record = _round_record(study, r)
        if record["done"]:
            return path, record
        r += 1


def study_chunk_files(wildcards):
    """Every chunk of a study: the grid's and, with refinement, every round's."""
    files = chunk_files(wildcards)
    if wildcards.study in REFINED:
        files = files + _refined_chunk_files(wildcards.study, last_round(wildcards.study)[1])
    return files


def study_rounds(wildcards):
    return [last_round(wildcards.study)[0]] if wildcards.study in REFINED else []


def all_refinements():
    return expand("results/{study}/refinement.{ext}", study=REFINED,
                  ext=["json", "nc", "png", "pdf"])


def refinement_figures(study, ext):
    """A refined study's summary figure (rule refinement_figure), for its report section."""
    return [f"results/{study}/refinement.{ext}"] if study in REFINED else []


# A figure's own caption (`caption:`, a file of the working directory or of workflow/report/;
# configs.load_config checks it exists) is passed as params.caption and appended to
# figure.rst in the Snakemake report. CAPTIONS (common.smk) is workflow/report/.


def figure_caption(study, figure):
    """The text of the figure's own caption file, or "" (also the standalone report's)."""
    name = FIGURES[study][figure].get("caption")
    return configs.caption_file(name, CAPTIONS).read_text() if name else ""


def report_comparisons(ext):
    """results/comparisons/NAME.ext of every comparison of the config (none without one)."""
    return expand("results/comparisons/{name}.{ext}", name=config.get("comparisons") or {},
                  ext=ext)
