"""Compute one chunk of grid points.

Snakemake ``script:`` of rule ``simulate``. Input: the chunk manifest (written by rule manifests)
(point ids and resolved parameters). Output: the chunk's netCDF file, written atomically.
A point whose numerics fail is stored with its status and NaN; the chunk goes on. The
file's attrs record the compute time and the job's peak resident memory (for ``ness plan``).
While it runs, the job logs its progress and keeps ``<chunk>.progress`` beside its output
(:mod:`ness_core.progress`).
"""

import logging
import os
import time

# Jobs already run in parallel over the cores: one BLAS thread per job thread, set before
# numpy is first imported (oversubscribed OpenBLAS threads slow small eigenproblems ~100x).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, str(snakemake.threads))  # noqa: F821

from ness_core import chunk_files, dataset, job, progress, sweep  # noqa: E402
from ness_core.models import short_name  # noqa: E402


def main(snakemake) -> None:
    # a full disk fails here, before the work (a retry then fails at once, not after it)
    chunk_files.check_free_space(os.path.dirname(snakemake.output[0]))
    manifest = sweep.read_manifest(snakemake.input.manifest)
    n = len(manifest["points"])
    logging.info("chunk %s of study %s: %d points of model %s",
                 manifest["chunk"], manifest["study"], n, short_name(manifest["model"]))
    start = time.perf_counter()
    # a progress line in this log and <chunk>.progress for `ness plan`, every >= 10 s
    with progress.ChunkProgress(snakemake.output[0], n, log=logging.info) as report:
        ds = dataset.compute_chunk(manifest, progress=report.update)
        seconds = time.perf_counter() - start
        failed = int((ds["status"].values != "ok").sum())
        logging.info("computed %d points in %.2f s (%.3g s/point), %d not ok",
                     n, seconds, seconds / max(n, 1), failed)
        peak_mb = sweep.process_peak_mb()
        ds.attrs.update(chunk=manifest["chunk"], study=manifest["study"],
                        model=manifest["model"], seconds=seconds, peak_rss_mb=peak_mb)
        dataset.write_netcdf(ds, snakemake.output[0], digest=True)


if __name__ == "__main__":
    job.run(main, snakemake)  # noqa: F821
