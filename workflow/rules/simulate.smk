# One job per chunk of grid points; the chunk's manifest (written by the planner) is its input.


rule simulate:
    input:
        manifest="results/{study}/chunks/{chunk}.json",
    output:
        "results/{study}/chunks/{chunk}.nc",
    log:
        "results/logs/simulate/{study}/{chunk}.log",
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: sweep.job_mem_mb(attempt),
    conda:
        "../envs/ness.yaml"
    script:
        "../scripts/simulate.py"
