#!/usr/bin/env bash
# qt on Slurm: one array task per shard, then a merge job that waits for all of them.
#
#   jid=$(sbatch --parsable deploy/slurm-array.sh experiments/sweep.toml)
#   sbatch --dependency=afterany:$jid deploy/slurm-merge.sh research/experiments/sweep_examples_strategy
#
# Keep --array contiguous (0-2 or 1-3; qt refuses a stepped array such as 1-7:2) and its
# size equal to QT_SHARDS. QT_CACHE_DIR must be on the shared filesystem so that every
# task reuses the sample DB built by the first one (the others wait) and the LLM cache.
# `--resume` makes a requeued task continue its shard instead of starting it again.
#SBATCH --job-name=qt-sweep
#SBATCH --array=0-2
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --output=qt-sweep-%A_%a.log
set -euo pipefail
spec=${1:-${QT_SPEC:-experiments/sweep.toml}}
shards=${QT_SHARDS:-3}
export QT_CACHE_DIR=${QT_CACHE_DIR:-$HOME/.cache/qt}
exec "${QT_BIN:-qt}" run "$spec" --shard "auto/$shards" --resume --quiet
