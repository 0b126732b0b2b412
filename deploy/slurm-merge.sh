#!/usr/bin/env bash
# The merge step after deploy/slurm-array.sh (submit with --dependency=afterany:<array job>):
# one tree under <sweep>/merged. Exit 2 if the shards mix specs or DBs, 1 if a shard or
# some generations are missing (the message says which; resume them and merge again).
#SBATCH --job-name=qt-merge
#SBATCH --cpus-per-task=1
#SBATCH --mem=1G
#SBATCH --output=qt-merge-%j.log
set -euo pipefail
sweep=${1:?usage: sbatch deploy/slurm-merge.sh <root>/<name> (the sweep folder holding shards/)}
exec "${QT_BIN:-qt}" merge "$sweep"
