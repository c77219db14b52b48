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


# The manifests of a study's new chunks (common.smk's plan), written by the main process in
# one job per study. A chunk's manifest is fixed by its id, so simulate takes it as
# ancient(): rewriting it (e.g. after a change of this code) never recomputes a chunk.
for _index, (_name, _chunks) in enumerate(CHUNKS.items()):
    _new = [path for path in (chunk_manifest(_name, cid) for cid in _chunks)
            if not Path(path).exists()]
    if not _new:
        continue

    rule:
        name:
            f"manifests_{_index}_{re.sub(r'[^A-Za-z0-9_]', '_', _name)}"
        output:
            _new,
        params:
            study=_name,
        log:
            f"results/logs/manifests/{_name}.log",
        localrule: True
        resources:
            mem_mb=1000,
            runtime=5,
        run:
            for path in output:
                sweep.write_manifest(path, CHUNKS[params.study][Path(path).stem],
                                     STUDIES[params.study])


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
