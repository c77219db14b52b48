"""Assemble a study's chunk files into ``results/<study>/dataset.nc``.

Snakemake ``script:`` of rule ``gather``. The study's grid comes from ``params.study`` (the
validated config entry), so a changed grid rebuilds the dataset; points of kept chunks that
the grid no longer wants are left out. Chunk files are streamed one at a time.
"""

import logging
import sys

from ness_core import configs, dataset, sweep


def main(snakemake) -> None:
    study = configs.parse_study(snakemake.wildcards.study, snakemake.params.study)
    logging.info("study %s: %d chunk files, grid %s = %s", study.name, len(snakemake.input),
                 tuple(study.axes), study.shape)
    ds = dataset.assemble(study, list(snakemake.input))
    not_ok = int((ds["status"].values != "ok").sum())
    logging.info("assembled %d points, %d with status != ok", ds["status"].size, not_ok)
    dataset.write_netcdf(ds, snakemake.output[0])
    peak_mb = sweep.process_peak_mb()
    logging.info("peak resident memory %.0f MB", peak_mb)


if __name__ == "__main__":
    sys.stderr = open(snakemake.log[0], "w")  # noqa: F821, SIM115
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    main(snakemake)  # noqa: F821
