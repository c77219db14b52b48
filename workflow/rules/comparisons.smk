# One rule run per entry of the config's `comparisons:`: curves of several studies against
# reference data (ness_core.comparisons), PNG for the report plus PDF and the deviations JSON.
# Its params are that comparison's spec alone, so editing one comparison redraws only it.


rule comparison:
    wildcard_constraints:
        comparison=configs.NAME_PATTERN,
    input:
        datasets=lambda wildcards: comparison_datasets(wildcards.comparison),
        references=lambda wildcards: comparison_references(wildcards.comparison),
    output:
        png=report(
            "results/comparisons/{comparison}.png",
            caption="../report/comparison.rst",
            category="Comparisons",
            labels={"study": "comparisons", "figure": "{comparison}"},
        ),
        pdf="results/comparisons/{comparison}.pdf",
        json="results/comparisons/{comparison}.json",
    params:
        spec=lambda wildcards: COMPARISONS[wildcards.comparison],
        caption=lambda wildcards: "\n".join(
            configs.caption_file(name, CAPTIONS).read_text()
            for name in [COMPARISONS[wildcards.comparison].get("caption")]
            if name
        ),
    log:
        "results/logs/comparisons/{comparison}.log",
    conda:
        "../envs/ness.yaml"
    script:
        "../scripts/comparison.py"
