"""Draw one comparison across studies (PNG, PDF) and write its deviations (JSON).

Snakemake ``script:`` of rule ``comparison``. The comparison's spec is ``params.spec`` (one
entry of the config's ``comparisons:``, schema defaults filled in); ``input.datasets`` are
the datasets of its studies, ``input.references`` its CSV files. All outputs are written
under temporary names and renamed into place, so a killed job leaves none half-written.
"""

import logging
from pathlib import Path

from ness_core import comparisons, dataset, job
from ness_core.chunk_files import atomic_path, write_json_atomic


def main(snakemake) -> None:
    name, spec = snakemake.wildcards.comparison, snakemake.params.spec
    datasets = {Path(path).parent.name: dataset.read_netcdf(path)
                for path in snakemake.input.datasets}
    summary = comparisons.summarize(name, spec, datasets)
    for curve in summary["curves"]:
        logging.info("comparison %s, curve %s: %d compared, max relative deviation %s",
                     name, curve["label"], curve["n_compared"],
                     curve["max_relative_deviation"])
    with (atomic_path(snakemake.output.png, suffix=".png") as png,
          atomic_path(snakemake.output.pdf, suffix=".pdf") as pdf):
        comparisons.draw(name, spec, datasets, summary, [png, pdf])
    write_json_atomic(snakemake.output.json, summary)


if __name__ == "__main__":
    job.run(main, snakemake)  # noqa: F821
