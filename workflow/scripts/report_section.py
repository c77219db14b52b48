"""Write one study's section of the standalone report and its index entry.

Snakemake ``script:`` of rule ``report_section``: the study's config entry, key numbers,
consistency checks, figures (embedded) and provenance from its dataset, built by
:func:`ness_core.report.write_section`. Both outputs are written atomically.
"""

import logging

from ness_core import job, report


def main(snakemake) -> None:
    study = snakemake.wildcards.study
    entry = report.write_section(study, snakemake.params.spec, snakemake.input.dataset,
                                 list(snakemake.input.figures), snakemake.output.html,
                                 snakemake.output.entry)
    logging.info("section of study %s: %s, config hash %s, computed %s", study,
                 entry["verdict"], entry["config_hash"], entry["computed"])


if __name__ == "__main__":
    job.run(main, snakemake)  # noqa: F821
