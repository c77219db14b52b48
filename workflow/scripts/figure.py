"""Draw one figure of a study (PNG and PDF) from its dataset.

Snakemake ``script:`` of rule ``figure``. The figure spec is ``params.spec``, one entry of
the study's ``figures:`` list with the schema's defaults filled in. Both files are drawn
under temporary names and renamed into place (``atomic_path``), so a killed job leaves no
partial figure.
"""

import logging

from ness_core import dataset, job, plots
from ness_core.chunk_files import atomic_path


def main(snakemake) -> None:
    ds = dataset.read_netcdf(snakemake.input[0])
    spec = snakemake.params.spec
    logging.info("figure %s of study %s: %s", snakemake.wildcards.figure,
                 snakemake.wildcards.study, spec)
    # temporary names end in .png / .pdf, so matplotlib picks the format from them
    with (atomic_path(snakemake.output.png, suffix=".png") as png,
          atomic_path(snakemake.output.pdf, suffix=".pdf") as pdf):
        plots.draw(ds, spec, [png, pdf])


if __name__ == "__main__":
    job.run(main, snakemake)  # noqa: F821
