# Adaptive refinement (ness_core.refine_rounds): one checkpoint job per (study, round)
# proposes the next points of every slice and writes their chunk manifests; its chunks are
# computed by rule simulate like any other. Rounds go on until a round proposes nothing.
checkpoint refine_round:
    input:
        chunks=refine_round_chunks,  # the grid's chunks and those of rounds 0..r-1
        previous=refine_round_previous,  # round r-1's record (none for round 0)
    output:
        "results/{study}/refine/round_{round}.json",
    params:
        # a changed grid or refine block redoes the rounds (reusing every computed point)
        study=lambda wildcards: study_grid(wildcards.study),
        chunk_size=lambda wildcards: STUDIES[wildcards.study].chunk_size,
    wildcard_constraints:
        round="[0-9]+",
    log:
        "results/logs/refine/{study}/round_{round}.log",
    localrule: True
    conda:
        "../envs/ness.yaml"
    script:
        "../scripts/refine_round.py"


rule refinement:
    input:
        study_rounds,
    output:
        json="results/{study}/refinement.json",
        nc="results/{study}/refinement.nc",
    params:
        study=lambda wildcards: study_grid(wildcards.study),
    log:
        "results/logs/refine/{study}/refinement.log",
    localrule: True
    conda:
        "../envs/ness.yaml"
    script:
        "../scripts/refinement.py"


rule refinement_figure:
    input:
        "results/{study}/refinement.nc",
    output:
        png=report(
            "results/{study}/refinement.png",
            caption="../report/refinement.rst",
            category="{study}",
            labels={"study": "{study}", "figure": "refinement"},
        ),
        pdf="results/{study}/refinement.pdf",
    log:
        "results/logs/refine/{study}/refinement_figure.log",
    params:
        spec=lambda wildcards: STUDIES[wildcards.study].refine,  # for the caption
    conda:
        "../envs/ness.yaml"
    script:
        "../scripts/refinement_figure.py"
