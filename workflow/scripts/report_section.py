"""Write one study's section of the standalone report and its index entry.

Snakemake ``script:`` of rule ``report_section``: the study's description, config entry,
key numbers, consistency checks, figures (embedded, with their captions and links to their
PDFs; a refined study's summary figure last), a link to its dataset and provenance, built
by :func:`ness_core.report.write_section`.
Both outputs are written atomically.
"""

import logging
from pathlib import Path

from ness_core import job, report


def main(snakemake) -> None:
    study, params = snakemake.wildcards.study, snakemake.params
    captions = {name: report.figure_caption(params.caption_template, study, name, spec,
                                            params.captions[name])
                for name, spec in params.figures.items()}
    if snakemake.input.refinement:
        captions["refinement"] = report.figure_caption(params.refinement_caption, study,
                                                       "refinement", params.spec["refine"])
    # the page, results/report/index.html, is the directory above sections/
    entry = report.write_section(study, params.spec, snakemake.input.dataset,
                                 [*snakemake.input.figures, *snakemake.input.refinement],
                                 snakemake.output.html,
                                 snakemake.output.entry,
                                 page_dir=Path(snakemake.output.html).parent.parent,
                                 captions=captions)
    logging.info("section of study %s: %s, config hash %s, computed %s", study,
                 entry["verdict"], entry["config_hash"], entry["computed"])


if __name__ == "__main__":
    job.run(main, snakemake)  # noqa: F821
