"""Draw one figure of a study (PNG and PDF) from its dataset.

Snakemake ``script:`` of rule ``figure``. The figure spec is ``params.spec``, one entry of
the study's ``figures:`` list with the schema's defaults filled in.
"""

import logging
import sys

from ness_core import dataset, plots


def main(snakemake) -> None:
    ds = dataset.read_netcdf(snakemake.input[0])
    spec = snakemake.params.spec
    logging.info("figure %s of study %s: %s", snakemake.wildcards.figure,
                 snakemake.wildcards.study, spec)
    plots.draw(ds, spec, [snakemake.output.png, snakemake.output.pdf])


if __name__ == "__main__":
    sys.stderr = open(snakemake.log[0], "w")  # noqa: F821, SIM115
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    main(snakemake)  # noqa: F821
