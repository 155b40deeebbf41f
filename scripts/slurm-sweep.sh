#!/usr/bin/env bash
# Submit a pioneer sweep to Slurm: a job array of SHARDS tasks, each running one shard of the
# sweep into OUT/shard-I (with --resume, so a requeued task continues where it stopped), and a
# merge job that runs once every task has succeeded and writes OUT/merged.
#
#   scripts/slurm-sweep.sh SWEEP SHARDS OUT [more flags of `pioneer sweep`, e.g. --backend gpu]
#
# Prints the two job ids. PIONEER names the binary (default: `pioneer` on the PATH of the nodes).
# SBATCH_* variables, or extra `#SBATCH` defaults of your site, set partitions, time and memory.
set -euo pipefail
if [ "$#" -lt 3 ]; then
  echo "usage: $0 SWEEP SHARDS OUT [flags of pioneer sweep]" >&2
  exit 2
fi
sweep=$(realpath "$1")
shards=$2
out=$(realpath -m "$3")
shift 3
pioneer=${PIONEER:-pioneer}
mkdir -p "$out"
array=$(sbatch --parsable --array="1-$shards" --job-name=pioneer-sweep \
  --output="$out/slurm-%A_%a.log" \
  --wrap "exec '$pioneer' sweep '$sweep' --shard \$SLURM_ARRAY_TASK_ID/$shards --out '$out'/shard-\$SLURM_ARRAY_TASK_ID --resume $*")
merge=$(sbatch --parsable --dependency="afterok:$array" --job-name=pioneer-merge \
  --output="$out/slurm-merge-%j.log" \
  --wrap "exec '$pioneer' merge '$out'/shard-* --out '$out'/merged")
echo "$array $merge"
