#!/usr/bin/env bash
# Job status for snakemake-executor-plugin-cluster-generic from squeue alone (no sacct, so
# no accounting daemon needed): prints running, success or failed for SLURM job id $1.
# A job squeue no longer lists (it ended more than MinJobAge ago) counts as success;
# Snakemake then checks that its outputs exist, so a lost failure still fails the job.
state=$(squeue --noheader --jobs "$1" --states=all --format=%T 2>/dev/null | head -n 1)
case "$state" in
  PENDING|CONFIGURING|RUNNING|COMPLETING|SUSPENDED|REQUEUED|RESIZING|STAGE_OUT|"REQUEUE_"*)
    echo running ;;
  COMPLETED|"") echo success ;;
  *) echo failed ;;
esac
