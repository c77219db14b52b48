"""Write the standalone summary report ``results/report/index.html``.

Snakemake ``script:`` of rule ``summary_report``: every study's config, figures (embedded),
key numbers, consistency checks and provenance, built by :mod:`ness_core.report`.
"""

import logging
import sys

from ness_core import report


def main(snakemake) -> None:
    studies = snakemake.params.studies
    datasets = dict(zip(studies, snakemake.input.datasets, strict=True))
    logging.info("report of %d studies: %s", len(studies), ", ".join(studies))
    html = report.build_report(studies, datasets, snakemake.input.figures)
    report.write_report(html, snakemake.output[0])


if __name__ == "__main__":
    sys.stderr = open(snakemake.log[0], "w")  # noqa: F821, SIM115
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    main(snakemake)  # noqa: F821
