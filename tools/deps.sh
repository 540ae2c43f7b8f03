#!/usr/bin/env bash
# Install the Debian packages kdlab needs (apt-get; sudo when not root). Idempotent: when every
# required and optional package is already installed (dpkg-query), apt is not touched at all,
# so `make deps` is instant the second time. Optional packages (PyTorch for the reference
# bench, Slurm for the dispatch tests, clang + libFuzzer for `make fuzz`) only warn when they
# cannot be installed.
set -euo pipefail

required=(build-essential make pkg-config libopenblas-dev libyaml-dev libpng-dev zlib1g-dev
          libcjson-dev gnuplot-nox dataset-fashion-mnist)
optional=(python3-torch slurmctld slurmd slurm-client munge clang libclang-rt-14-dev)

missing() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || printf '%s\n' "$p"
    done
}

mapfile -t need < <(missing "${required[@]}")
mapfile -t want < <(missing "${optional[@]}")
if [ ${#need[@]} -eq 0 ] && [ ${#want[@]} -eq 0 ]; then
    echo "deps: all packages present"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: error: apt-get not found; install by hand: ${need[*]} ${want[*]}" >&2
    exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "deps: error: not root and no sudo; run as root: $0" >&2
        exit 1
    }
    sudo=(sudo)
fi
apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -qq
     -o Dpkg::Use-Pty=0 -o APT::Install-Recommends=false)

all=("${need[@]}" "${want[@]}")
echo "deps: installing: ${all[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    || echo "deps: warning: apt-get update failed; trying the cached package lists" >&2

if [ ${#need[@]} -gt 0 ]; then
    "${apt[@]}" install "${need[@]}" >/dev/null || {
        echo "deps: error: could not install required packages: ${need[*]}" >&2
        exit 1
    }
fi
# One optional package at a time, so that a missing one (e.g. no Slurm in this release)
# does not stop the others.
for p in "${want[@]}"; do
    "${apt[@]}" install "$p" >/dev/null 2>&1 \
        || echo "deps: warning: optional package $p not installed (its tests will skip)" >&2
done

mapfile -t still < <(missing "${need[@]}")
if [ ${#still[@]} -gt 0 ]; then
    echo "deps: error: still missing after install: ${still[*]}" >&2
    exit 1
fi
echo "deps: done"
