# ness-sweep: parameter studies of non-equilibrium steady states.
#
#   snakemake --workflow-profile workflow/profiles/default
#   snakemake --workflow-profile workflow/profiles/default --configfile config/other.yaml
#   snakemake --report results/report.html
#
# Data flow: config → chunk plan (common.smk) → simulate → gather → figures → report.
# The config is read by common.smk (strict YAML, no aliases, duplicate keys or templates):
# the --configfile files alone if given, else config/config.yaml.
from snakemake.utils import min_version

min_version("9.0")



report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/refine.smk"
include: "workflow/rules/gather.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/comparisons.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        all_outputs(),
    default_target: True
