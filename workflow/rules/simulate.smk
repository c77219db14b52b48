# One job per chunk of grid points; the chunk's manifest (written by the planner) is its input.

# A point whose estimated memory exceeds what one job may use (--resources mem_mb, else this
# machine's memory for a local run) stops the run here, before any job starts.
_given_mem_mb = workflow.global_resources.get("mem_mb")
MEMORY_LIMIT_MB = sweep.memory_limit_mb(
    _given_mem_mb.value if _given_mem_mb is not None else None, local=workflow.nodes is None
)
for _study in STUDIES.values():
    try:
        sweep.check_memory(_study, MEMORY_LIMIT_MB)
    except configs.ConfigError as error:
        sys.exit(f"config error: {error}")


localrules:
    manifest,


# The manifest of a new chunk of the plan (common.smk), written by the main process. Its
# content is fixed by the chunk id, so simulate takes it as ancient(): rewriting it (e.g.
# after a change of this rule's code) never recomputes a chunk.
rule manifest:
    output:
        "results/{study}/chunks/{chunk}.json",
    log:
        "results/logs/manifest/{study}/{chunk}.log",
    run:
        sweep.write_manifest(output[0], CHUNKS[wildcards.study][wildcards.chunk],
                             STUDIES[wildcards.study])


rule simulate:
    input:
        manifest=ancient("results/{study}/chunks/{chunk}.json"),
    output:
        "results/{study}/chunks/{chunk}.nc",
    log:
        "results/logs/simulate/{study}/{chunk}.log",
    threads: 1
    resources:
        # the largest point's memory_estimate (or a fixed default), doubled on each retry
        # (of the planned chunk; a job re-parsing this file may plan without it: its manifest)
        mem_mb=lambda wildcards, input, attempt: sweep.chunk_mem_mb(
            STUDIES[wildcards.study].model,
            CHUNKS[wildcards.study].get(wildcards.chunk, input.manifest),
            attempt,
        ),
    conda:
        "../envs/ness.yaml"
    script:
        "../scripts/simulate.py"
