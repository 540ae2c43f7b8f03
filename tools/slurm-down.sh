#!/usr/bin/env bash
# Stop the single-node Slurm that tools/slurm-up.sh started: slurmd, slurmctld, and munged if
# slurm-up started it. Only the processes named in their pid files are signalled.
set -uo pipefail
# shellcheck source=tools/need.sh
. "$(dirname "${BASH_SOURCE[0]}")/need.sh"
need_commands

state=/run/kdlab-slurm

stop_pidfile() {   # name pidfile
    local name=$1 file=$2 pid
    [ -s "$file" ] || return 0
    pid=$(cat "$file")
    kill -0 "$pid" 2>/dev/null || { rm -f "$file"; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "slurm-down: stopped $name ($pid)"
            rm -f "$file"
            return 0
        fi
        sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null
    echo "slurm-down: killed $name ($pid) after 10 s"
    rm -f "$file"
}

stop_pidfile slurmd /run/slurmd.pid
stop_pidfile slurmctld /run/slurmctld.pid
if [ -e "$state/munged" ]; then
    stop_pidfile munged /run/munge/munged.pid
fi
rm -rf "$state"
exit 0
