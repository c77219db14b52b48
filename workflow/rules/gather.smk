# All chunks of a study → one labelled dataset on the study's grid.


rule gather:
    input:
        chunk_files,
    output:
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
