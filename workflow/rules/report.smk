# Standalone HTML summary of every study, rebuilt whenever a dataset or figure changes.


rule summary_report:
    input:
        datasets=all_datasets(),
        figures=all_figures(),
    output:
        report(
            "results/report/index.html",
            caption="../report/summary.rst",
            category="Summary",
            labels={"study": "all", "figure": "summary"},
        ),
    params:
        studies=lambda wildcards: config["studies"],
    log:
        "results/logs/report/index.log",
    conda:
        "../envs/ness.yaml"
    script:
        "../scripts/summary_report.py"
