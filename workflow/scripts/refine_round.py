"""One refinement round of a study: the next points of every slice, as chunk manifests.

Snakemake ``script:`` of checkpoint ``refine_round`` (:mod:`ness_core.refine_rounds`). The
study comes from ``params.study`` (the validated config entry with its ``refine:`` block),
so a changed grid or refine block redoes the rounds; points already computed are reused.
A round's points are chunked with ``params.chunk_size`` (the study's; null: by estimated
cost, as the grid), across slices.
Inputs: the chunks computed so far and, from round 1 on, the previous round's record.
"""

import dataclasses
import json
import logging
from pathlib import Path

from ness_core import chunk_files, configs, job, refine_rounds


def main(snakemake) -> None:
    study = dataclasses.replace(
        configs.parse_study(snakemake.wildcards.study, snakemake.params.study),
        chunk_size=snakemake.params.chunk_size)
    r = int(snakemake.wildcards.round)
    previous = None
    if snakemake.input.previous:
        with open(snakemake.input.previous[0]) as fh:
            previous = json.load(fh)
    output = Path(snakemake.output[0])
    record = refine_rounds.next_round(study, r, list(snakemake.input.chunks), previous,
                                      output.parent.parent / "chunks")
    proposed = sum(len(s["proposed"]) for s in record["slices"])
    logging.info("study %s, round %d: %d chunk files read, %d points proposed, done=%s",
                 study.name, r, len(snakemake.input.chunks), proposed, record["done"])
    chunk_files.write_json_atomic(output, record)


if __name__ == "__main__":
    job.run(main, snakemake)  # noqa: F821
