# ness-sweep: parameter studies of non-equilibrium steady states.
#
#   snakemake --workflow-profile workflow/profiles/default
#   snakemake --workflow-profile workflow/profiles/default --configfile config/other.yaml
#   snakemake --report results/report.html
#
# Data flow: config → chunk plan (common.smk) → simulate → gather → figures → report.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/gather.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        all_outputs(),
    default_target: True
