# All chunks of a study → one labelled dataset on the study's grid.


rule gather:
    input:
        chunks=study_chunk_files,  # refine.smk: the grid's and every refinement round's
        rounds=study_rounds,  # the last refinement round (its union grid), if any
    output:
        # not update(): Snakemake 9.27 would keep the previous dataset during the job, but
        # after a failed job it records the restored old file as the new job's output, up to
        # date for the new config (tests/test_faults.py)
        "results/{study}/dataset.nc",
    params:
        # the study spec: a changed grid (even one with fewer points) rebuilds the dataset
        study=lambda wildcards: study_grid(wildcards.study),
    log:
        "results/logs/gather/{study}.log",
    conda:
        "../envs/ness.yaml"
    script:
        "../scripts/gather.py"
