"""The entry point of every workflow script: log to the rule's log file, and end a job that
cannot write its output with one line.

``run(main, snakemake)`` sends stderr and ``logging`` (INFO, timestamped) to
``snakemake.log[0]``, logs the CPU seconds the job took to start (interpreter, Snakemake's
script preamble, the script's imports: the fixed cost of a job, read by
benchmarks/throughput.py) and calls ``main(snakemake)``. An
:class:`~ness_core.chunk_files.OutputError` (full disk, unwritable directory, corrupt chunk)
becomes one ``error:`` line, in the log and on the job's real stderr (the log may be on the
full disk), and exit status 1.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from ness_core.chunk_files import OutputError


def run(main: Callable[[Any], None], snakemake: Any) -> None:
    sys.stderr = open(snakemake.log[0], "w")  # noqa: SIM115 (the job's stderr until exit)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    logging.info("job start-up: %.2f s CPU", time.process_time())
    try:
        main(snakemake)
    except OutputError as error:
        logging.error("%s", error)
        print(f"error: {error}", file=sys.__stderr__)
        sys.exit(1)
