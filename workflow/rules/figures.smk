# One rule run per figure of a study's `figures:` list, PNG for the report plus PDF.

# A figure's own caption (`caption:`, a file of the working directory or of workflow/report/;
# configs.load_config checks it exists) is passed as params.caption and appended to
# figure.rst in the Snakemake report. CAPTIONS (common.smk) is workflow/report/.


def figure_caption(study, figure):
    """The text of the figure's own caption file, or "" (also the standalone report's)."""
    name = FIGURES[study][figure].get("caption")
    return configs.caption_file(name, CAPTIONS).read_text() if name else ""


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
