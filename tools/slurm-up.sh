#!/usr/bin/env bash
# Start a real single-node Slurm (Debian's slurmctld, slurmd, munge) on this machine, as root,
# so that `RUN=srun` and sbatch dispatch are tested for real. Writes /etc/slurm/slurm.conf for
# this host (an existing foreign one is kept as slurm.conf.kdlab-bak), starts munged as user
# munge, slurmctld and slurmd, and waits until `sinfo` shows the node idle.
# Exit 0 when the node is idle (or already was); otherwise one line "slurm-up: error: ..." on
# stderr, exit 1, and whatever this script started is stopped again. tools/slurm-down.sh stops it.
set -euo pipefail
PATH=$PATH:/usr/sbin:/sbin

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/need.sh
. "$here/need.sh"
need_commands

timeout_s=${SLURM_UP_TIMEOUT:-30}
conf=/etc/slurm/slurm.conf
state=/run/kdlab-slurm            # what this script started, for slurm-down.sh
logdir=/var/log/slurm

die() {
    echo "slurm-up: error: $*" >&2
    if [ "${started:-0}" = 1 ]; then "$here/slurm-down.sh" >/dev/null 2>&1 || true; fi
    exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (writes $conf, starts daemons)"
for cmd in munged munge unmunge slurmctld slurmd sinfo scontrol srun sbatch; do
    command -v "$cmd" >/dev/null 2>&1 ||
        die "'$cmd' not found; install: apt-get install slurmctld slurmd slurm-client munge"
done

host=$(hostname -s)
cpus=$(nproc --all)
mem_total=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)   # MB, as free -m
real_mem=$((mem_total * 9 / 10))   # below what slurmd measures, or the node is drained
# The topology slurmd will detect, so that slurmctld does not "reconfigure" the node.
topo=$(slurmd -C 2>/dev/null |
       grep -oE 'SocketsPerBoard=[0-9]+ CoresPerSocket=[0-9]+ ThreadsPerCore=[0-9]+' || true)

node_state() {
    timeout 5 sinfo -h -N -n "$host" -o '%T' 2>/dev/null | head -n1 | tr -d '*~#' || true
}
log_lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
last_error() {   # newest fatal/error line this start logged (the pmix noise is harmless)
    tail -n +"$(($2 + 1))" "$1" 2>/dev/null | grep -E 'fatal|error' | grep -v -i pmix |
        tail -n1 | sed 's/^\[[^]]*\] //' || true
}
pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
node_up() { case "$1" in idle | mixed | allocated | completing) return 0 ;; esac; return 1; }

if pid_alive /run/slurmctld.pid && pid_alive /run/slurmd.pid && node_up "$(node_state)"; then
    echo "slurm-up: already up: node $host $(node_state)"
    exit 0
fi

mkdir -p "$state" "$logdir" /var/spool/slurmctld /var/spool/slurmd
started=1

# munge: the key is made when the package is installed; munged must run as user munge.
if ! pid_alive /run/munge/munged.pid; then
    [ -s /etc/munge/munge.key ] || die "no /etc/munge/munge.key (reinstall munge)"
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
    runuser -u munge -- /usr/sbin/munged ||
        die "munged did not start (see /var/log/munge/munged.log)"
    touch "$state/munged"
fi
for ((i = 0; ; i++)); do   # munged daemonizes before its socket is ready
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
    [ "$i" -lt 20 ] || die "munge credential round trip failed (see /var/log/munge/munged.log)"
    sleep 0.25
done

if [ -f "$conf" ] && ! grep -q '^# kdlab tools/slurm-up.sh' "$conf"; then
    cp -p "$conf" "$conf.kdlab-bak"
fi
cat > "$conf.tmp" <<CONF
# kdlab tools/slurm-up.sh: single-node cluster on $host (regenerated on every start)
ClusterName=kdlab
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$logdir/slurmctld.log
SlurmdLogFile=$logdir/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
# MinJobAge <= 5 keeps sbatch --wait polling every 2 s (it backs off to 8 s when larger).
MinJobAge=5
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus $topo RealMemory=$real_mem State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
mv "$conf.tmp" "$conf"

declare -A mark=([slurmctld]=$(log_lines "$logdir/slurmctld.log")
                  [slurmd]=$(log_lines "$logdir/slurmd.log"))
# The daemons fork and write their pid files a moment after the command returns, so remove
# stale ones first: a missing file then means "not yet", an existing one with no process "died".
if ! pid_alive /run/slurmctld.pid; then
    rm -f /run/slurmctld.pid
    slurmctld -c || die "slurmctld did not start: $(last_error "$logdir/slurmctld.log" "${mark[slurmctld]}")" \
        "(see $logdir/slurmctld.log)"
    touch "$state/slurmctld"
fi
if ! pid_alive /run/slurmd.pid; then
    rm -f /run/slurmd.pid
    slurmd || die "slurmd did not start: $(last_error "$logdir/slurmd.log" "${mark[slurmd]}")" \
        "(see $logdir/slurmd.log)"
    touch "$state/slurmd"
fi

for ((i = 0; i < timeout_s * 2; i++)); do
    for d in slurmctld slurmd; do
        if [ -s /run/$d.pid ]; then
            pid_alive /run/$d.pid ||
                die "$d exited: $(last_error "$logdir/$d.log" "${mark[$d]}") (see $logdir/$d.log)"
        elif [ "$i" -ge 20 ]; then
            die "$d not running after 10 s: $(last_error "$logdir/$d.log" "${mark[$d]}")" \
                "(see $logdir/$d.log)"
        fi
    done
    s=$(node_state)
    if node_up "$s"; then
        echo "slurm-up: node $host $s ($cpus CPUs, ${real_mem} MB) after $((i / 2)) s"
        exit 0
    fi
    sleep 0.5
done
reason=$(timeout 5 sinfo -h -N -n "$host" -o '%T %E' 2>/dev/null | head -n1 || true)
die "node $host not idle after ${timeout_s} s (state: ${reason:-no answer from slurmctld};" \
    "see $logdir/slurmctld.log and $logdir/slurmd.log)"
