"""Assemble the standalone report ``results/report/index.html`` from the study sections.

Snakemake ``script:`` of rule ``summary_report``: joins the sections and index entries
written by rule ``report_section`` (one per study, in config order) into one page with
:func:`ness_core.report.assemble_report`; no dataset or figure is read here.
"""

import json
import logging
from pathlib import Path

from ness_core import job, report


def main(snakemake) -> None:
    entries = [json.loads(Path(p).read_text()) for p in snakemake.input.entries]
    sections = [Path(p).read_text(encoding="utf-8") for p in snakemake.input.sections]
    logging.info("report of %d studies: %s", len(entries),
                 ", ".join(e["study"] for e in entries))
    report.write_report(report.assemble_report(entries, sections), snakemake.output[0])


if __name__ == "__main__":
    job.run(main, snakemake)  # noqa: F821
