"""The figure of a refined study's located targets against the slice axis (PNG and PDF).

Snakemake ``script:`` of rule ``refinement_figure``: draws ``refinement.nc``
(:func:`ness_core.refine_rounds.draw_summary`) under temporary names renamed into place.
"""

import logging

from ness_core import dataset, job, refine_rounds
from ness_core.chunk_files import atomic_path


def main(snakemake) -> None:
    summary = dataset.read_netcdf(snakemake.input[0])
    logging.info("refinement figure of study %s", snakemake.wildcards.study)
    with (atomic_path(snakemake.output.png, suffix=".png") as png,
          atomic_path(snakemake.output.pdf, suffix=".pdf") as pdf):
        refine_rounds.draw_summary(summary, [png, pdf])


if __name__ == "__main__":
    job.run(main, snakemake)  # noqa: F821
