#!/usr/bin/env bash
# The cluster test: a real single-node Slurm (munged, slurmctld and slurmd on localhost, from
# Debian's slurm-wlm and munge), a sweep submitted as a job array of 3 shards and a dependent
# merge job by scripts/slurm-sweep.sh; the merged tables must equal an unsharded sweep's, byte
# for byte. Needs root (to start the daemons) and target/release/pioneer. Exit 0 on success.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="${PIONEER_BIN:-$root/target/release/pioneer}"
[ -x "$bin" ] || { echo "slurm test: build the binary first (cargo build --release)" >&2; exit 1; }
for c in slurmctld slurmd sbatch squeue munged; do
  command -v "$c" >/dev/null || { echo "slurm test: $c is missing (apt-get install slurm-wlm munge)" >&2; exit 1; }
done
work=$(mktemp -d /tmp/pioneer-slurm.XXXXXX)
started=()
cleanup() {
  local status=$?
  for p in "${started[@]}"; do kill "$p" 2>/dev/null || true; done
  # The daemons write their state on the way out: wait for them before removing it.
  for _ in $(seq 50); do
    alive=0
    for p in "${started[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  rm -rf "$work" 2>/dev/null || true
  exit "$status"
}
trap cleanup EXIT

# munge: a key, and the daemon unless one runs.
if ! pgrep -x munged >/dev/null; then
  mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
  [ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
  chmod 400 /etc/munge/munge.key
  if command -v runuser >/dev/null && id munge >/dev/null 2>&1; then
    runuser -u munge -- munged
  else
    munged --force
  fi
  started+=("$(pgrep -x munged | head -1)")
fi

cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
export SLURM_CONF="$work/slurm.conf"
mkdir -p "$work/state" "$work/spool"
cat > "$SLURM_CONF" <<CONF
ClusterName=pioneer-test
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -f "$SLURM_CONF"
sleep 1
started+=("$(cat "$work/slurmctld.pid")")
slurmd -f "$SLURM_CONF" -N localhost
for _ in $(seq 60); do
  [ -s "$work/slurmd.pid" ] && sinfo -h -o %t 2>/dev/null | grep -q idle && break
  sleep 1
done
started+=("$(cat "$work/slurmd.pid")")
sinfo -h -o %t | grep -q idle || { echo "slurm test: the node never became idle" >&2; cat "$work"/*.log >&2; exit 1; }

# The reference: the same sweep in one process.
flags=(--replicates 64 --months 30 --backend cpu)
sweep="$root/scenarios/sweeps/incentive-space.toml"
"$bin" sweep "$sweep" "${flags[@]}" --out "$work/whole" >/dev/null

read -r array merge < <(PIONEER="$bin" "$root/scripts/slurm-sweep.sh" "$sweep" 3 "$work/cluster" "${flags[@]}")
echo "slurm test: submitted the array $array and the merge $merge"
for _ in $(seq 300); do
  [ -z "$(squeue -h -j "$array,$merge" 2>/dev/null)" ] && break
  sleep 1
done
if [ -n "$(squeue -h -j "$array,$merge" 2>/dev/null)" ]; then
  echo "slurm test: the jobs did not finish in 5 minutes" >&2; squeue >&2; exit 1
fi
[ -f "$work/cluster/merged/manifest.json" ] || { echo "slurm test: no merged result" >&2; cat "$work"/cluster/slurm-*.log >&2 || true; exit 1; }
for t in points runs stats steps; do
  for ext in csv parquet; do
    cmp "$work/whole/$t.$ext" "$work/cluster/merged/$t.$ext" \
      || { echo "slurm test: $t.$ext differs between the cluster and one process" >&2; exit 1; }
  done
done
echo "slurm test: 3 shards on Slurm, merged, equal the unsharded sweep byte for byte"
