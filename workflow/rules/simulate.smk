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


# The manifests of all new chunks of the plan (common.smk), written in one local job, so
# every simulate job is ready at once (one SLURM array can take them all). A chunk's
# manifest is fixed by its id, so simulate takes it as ancient(): rewriting it (e.g. after
# a change of this code) never recomputes a chunk.
NEW_MANIFESTS = [
    path
    for study, chunks in CHUNKS.items()
    for cid in chunks
    if not Path(path := chunk_manifest(study, cid)).exists()
]
if NEW_MANIFESTS:

    rule manifests:
        output:
            NEW_MANIFESTS,
        log:
            "results/logs/manifests.log",
        localrule: True
        resources:
            mem_mb=1000,
            runtime=5,
        run:
            for path in map(Path, output):  # results/<study>/chunks/<chunk>.json
                study = path.parent.parent.name
                sweep.write_manifest(path, CHUNKS[study][path.stem], STUDIES[study])


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
