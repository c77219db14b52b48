"""Assemble a study's chunk files into ``results/<study>/dataset.nc``.

Snakemake ``script:`` of rule ``gather``. The study's grid comes from ``params.study`` (the
validated config entry), so a changed grid rebuilds the dataset; points of kept chunks that
the grid no longer wants are left out. Chunk files are streamed one at a time.
"""

import json
import logging
from pathlib import Path

from ness_core import chunk_files, configs, dataset, job, sweep


def main(snakemake) -> None:
    coarse = study = configs.parse_study(snakemake.wildcards.study, snakemake.params.study)
    if study.refine:  # the union grid along the refined axes, NaN where a slice has no point
        from ness_core import refine_rounds  # (scipy.spatial and the refinement code)

        with open(snakemake.input.rounds[0]) as fh:
            record = json.load(fh)
        study = refine_rounds.union_study(study, record["axis_values"])
    logging.info("study %s: %d chunk files, grid %s = %s", study.name, len(snakemake.input.chunks),
                 tuple(study.axes), study.shape)
    for path in snakemake.input.chunks:  # every byte against its digest, before reading any
        manifest = chunk_files.read_manifest(Path(path).with_suffix(".json"))
        problem = chunk_files.verify_chunk(path, [p["id"] for p in manifest["points"]],
                                           full=True)
        if problem is not None:
            moved = chunk_files.move_aside(path)
            raise chunk_files.OutputError(f"chunk result {path} is corrupt ({problem}); "
                                          f"moved aside to {moved.name}, rerun to recompute it")
    ds = dataset.assemble(study, list(snakemake.input.chunks), missing_ok=bool(study.refine))
    if study.refine:  # what the figures mark: coarse grid and located targets
        ds = refine_rounds.annotate(ds, coarse, record)
    not_ok = int((ds["status"].values != "ok").sum())
    logging.info("assembled %d points, %d with status != ok", ds["status"].size, not_ok)
    dataset.write_netcdf(ds, snakemake.output[0])
    peak_mb = sweep.process_peak_mb()
    logging.info("peak resident memory %.0f MB", peak_mb)


if __name__ == "__main__":
    job.run(main, snakemake)  # noqa: F821
