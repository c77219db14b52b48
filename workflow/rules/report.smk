# The standalone report: one section per study, rebuilt only from that study's dataset,
# figures and config entry; the page is then assembled from the sections (and the
# comparisons' JSON and PNG, if the config has comparisons) without reading any dataset or
# study figure, so editing one study, or only its description, redoes one section and a
# cheap assembly.


localrules:
    summary_report,


rule report_section:
    input:
        dataset="results/{study}/dataset.nc",
        figures=lambda wildcards: figure_files(wildcards.study, "png"),
        pdfs=lambda wildcards: figure_files(wildcards.study, "pdf"),  # linked, not read
        refinement=lambda wildcards: refinement_figures(wildcards.study, "png"),
        refinement_pdf=lambda wildcards: refinement_figures(wildcards.study, "pdf"),
    output:
        html="results/report/sections/{study}.html",
        entry="results/report/sections/{study}.json",
    params:
        # this study's config entry alone: editing another study leaves the section alone
        spec=lambda wildcards: config["studies"][wildcards.study],
        # figure captions as in Snakemake's report: figure.rst and each figure's own file
        caption_template=lambda wildcards: (CAPTIONS / "figure.rst").read_text(),
        refinement_caption=lambda wildcards: (CAPTIONS / "refinement.rst").read_text(),
        figures=lambda wildcards: FIGURES[wildcards.study],
        captions=lambda wildcards: {
            figure: figure_caption(wildcards.study, figure)
            for figure in FIGURES[wildcards.study]
        },
    log:
        "results/logs/report/{study}.log",
    conda:
        "../envs/ness.yaml"
    script:
        "../scripts/report_section.py"


rule summary_report:
    input:
        sections=expand("results/report/sections/{study}.html", study=STUDIES),
        entries=expand("results/report/sections/{study}.json", study=STUDIES),
        comparisons=report_comparisons("json"),
        comparison_figures=report_comparisons("png"),
        comparison_pdfs=report_comparisons("pdf"),  # linked, not read
    output:
        report(
            "results/report/index.html",
            caption="../report/summary.rst",
            category="Summary",
            labels={"study": "all", "figure": "summary"},
        ),
    log:
        "results/logs/report/index.log",
    conda:
        "../envs/ness.yaml"
    script:
        "../scripts/summary_report.py"
