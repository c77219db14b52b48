"""A refined study's located targets: ``refinement.json`` and ``refinement.nc``.

Snakemake ``script:`` of rule ``refinement``. Input: the study's last refinement round
(the first that proposes nothing); the study comes from ``params.study``, as in
``refine_round`` (:func:`ness_core.refine_rounds.write_outputs`).
"""

import json
import logging

from ness_core import configs, job, refine_rounds


def main(snakemake) -> None:
    study = configs.parse_study(snakemake.wildcards.study, snakemake.params.study)
    with open(snakemake.input[0]) as fh:
        record = json.load(fh)
    logging.info("study %s: last round %d, %d slices", study.name, record["round"],
                 len(record["slices"]))
    refine_rounds.write_outputs(study, record, snakemake.output.json, snakemake.output.nc)


if __name__ == "__main__":
    job.run(main, snakemake)  # noqa: F821
