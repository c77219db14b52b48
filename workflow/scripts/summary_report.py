"""Assemble the standalone report ``results/report/index.html`` from the study sections.

Snakemake ``script:`` of rule ``summary_report``: joins the sections and index entries
written by rule ``report_section`` (one per study, in config order) and the comparisons
(``results/comparisons/NAME.json`` and ``.png``, in config order) into one page with
:func:`ness_core.report.assemble_report`; no dataset or study figure is read here.
"""

import json
import logging
from pathlib import Path

from ness_core import job, report


def main(snakemake) -> None:
    entries = [json.loads(Path(p).read_text()) for p in snakemake.input.entries]
    sections = [Path(p).read_text(encoding="utf-8") for p in snakemake.input.sections]
    page_dir = Path(snakemake.output[0]).parent
    comparisons = [report.load_comparison(j, png, page_dir) for j, png in
                   zip(snakemake.input.comparisons, snakemake.input.comparison_figures,
                       strict=True)]
    logging.info("report of %d studies and %d comparisons: %s", len(entries),
                 len(comparisons), ", ".join(e["study"] for e in entries))
    report.write_report(report.assemble_report(entries, sections, comparisons),
                        snakemake.output[0])


if __name__ == "__main__":
    job.run(main, snakemake)  # noqa: F821
