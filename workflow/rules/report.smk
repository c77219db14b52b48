# The standalone report: one section per study, rebuilt only from that study's dataset,
# figures and config entry; the page is then assembled from the sections without reading
# any dataset or figure, so editing one study redoes one section and a cheap assembly.


localrules:
    summary_report,


rule report_section:
    input:
        dataset="results/{study}/dataset.nc",
        figures=lambda wildcards: figure_files(wildcards.study, "png"),
    output:
        html="results/report/sections/{study}.html",
        entry="results/report/sections/{study}.json",
    params:
        # this study's config entry alone: editing another study leaves the section alone
        spec=lambda wildcards: config["studies"][wildcards.study],
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
