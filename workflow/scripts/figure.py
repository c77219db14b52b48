"""Draw one figure of a study (PNG and PDF) from its dataset.

Snakemake ``script:`` of rule ``figure``. The figure spec is ``params.spec``, one entry of
the study's ``figures:`` list with the schema's defaults filled in. Both files are drawn
under temporary names and renamed into place, so a killed job leaves no partial figure.
"""

import logging
import os
import sys
from pathlib import Path

from ness_core import dataset, plots


def main(snakemake) -> None:
    ds = dataset.read_netcdf(snakemake.input[0])
    spec = snakemake.params.spec
    logging.info("figure %s of study %s: %s", snakemake.wildcards.figure,
                 snakemake.wildcards.study, spec)
    outputs = [Path(snakemake.output.png), Path(snakemake.output.pdf)]
    # same suffix, so matplotlib picks the format from the temporary name
    temporary = [p.with_name(f".{p.stem}.tmp{p.suffix}") for p in outputs]
    plots.draw(ds, spec, temporary)
    for tmp, path in zip(temporary, outputs, strict=True):
        os.replace(tmp, path)


if __name__ == "__main__":
    sys.stderr = open(snakemake.log[0], "w")  # noqa: F821, SIM115
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    main(snakemake)  # noqa: F821
