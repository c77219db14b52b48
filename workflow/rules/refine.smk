# Adaptive refinement (ness_core.refine_rounds): one checkpoint job per (study, round)
# proposes the next points of every slice and writes their chunk manifests; its chunks are
# computed by rule simulate like any other. Rounds go on until a round proposes nothing.
checkpoint refine_round:
    input:
        refine_round_inputs,
    output:
        "results/{study}/refine/round_{round}.json",
    params:
        # a changed grid or refine block redoes the rounds (reusing every computed point)
        study=lambda wildcards: {**study_grid(wildcards.study),
                                 "refine": STUDIES[wildcards.study].refine},
    wildcard_constraints:
        round="[0-9]+",
    log:
        "results/logs/refine/{study}/round_{round}.log",
    localrule: True
    run:
        from ness_core import chunk_files as cf, refine_rounds

        r = int(wildcards.round)
        previous = None
        if r > 0:
            with open(input[len(CHUNKS[wildcards.study])]) as fh:
                previous = json.load(fh)
        chunks = [p for p in input if p.endswith(".nc")]
        record = refine_rounds.next_round(STUDIES[wildcards.study], r, chunks, previous,
                                          Path(output[0]).parent.parent / "chunks")
        cf.write_json_atomic(output[0], record)


rule refinement:
    input:
        study_rounds,
    output:
        json="results/{study}/refinement.json",
        nc="results/{study}/refinement.nc",
    log:
        "results/logs/refine/{study}/refinement.log",
    localrule: True
    run:
        from ness_core import refine_rounds

        with open(input[0]) as fh:
            record = json.load(fh)
        refine_rounds.write_outputs(STUDIES[wildcards.study], record, output.json, output.nc)


rule refinement_figure:
    input:
        "results/{study}/refinement.nc",
    output:
        png="results/{study}/refinement.png",
        pdf="results/{study}/refinement.pdf",
    log:
        "results/logs/refine/{study}/refinement_figure.log",
    run:
        from ness_core import dataset, refine_rounds
        from ness_core.chunk_files import atomic_path

        with (atomic_path(output.png, suffix=".png") as png,
              atomic_path(output.pdf, suffix=".pdf") as pdf):
            refine_rounds.draw_summary(dataset.read_netcdf(input[0]), [png, pdf])
