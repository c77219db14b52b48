# One rule run per figure of a study's `figures:` list, PNG for the report plus PDF.

rule figure:
    input:
        "results/{study}/dataset.nc",
    output:
        png=report(
            "results/{study}/figures/{figure}.png",
            caption="../report/figure.rst",
            category="{study}",
            labels={"study": "{study}", "figure": "{figure}"},
        ),
        pdf="results/{study}/figures/{figure}.pdf",
    params:
        spec=lambda wildcards: FIGURES[wildcards.study][wildcards.figure],
        caption=lambda wildcards: figure_caption(wildcards.study, wildcards.figure),
    log:
        "results/logs/figures/{study}/{figure}.log",
    conda:
        "../envs/ness.yaml"
    script:
        "../scripts/figure.py"
