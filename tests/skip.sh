# shellcheck shell=bash
# Sourced by the test scripts. skip_record COMPONENT REASON: this script left a check out. It
# says so, and adds "suite<TAB>component<TAB>reason" to $KD_SKIPPED (build/skipped.txt when
# run by hand), which tests/skipped.sh lists at the end of `make test`. COMPONENT is what
# `make deps` installs and the check needs (slurm, python3-torch: under CI=true its skip fails
# the run), or - for a check that did not apply this time.

# Resolved when sourced: the tests cd into scratch folders.
skip_file=$(cd "${BASH_SOURCE[0]%/*}/.." && pwd)/build/skipped.txt
skip_file=${KD_SKIPPED:-$skip_file}

skip_record() {
    local component=$1 reason=$2 suite=${BASH_SOURCE[1]##*/}
    suite=${suite%.sh}
    mkdir -p "${skip_file%/*}"
    printf '%s\t%s\t%s\n' "$suite" "$component" "$reason" >>"$skip_file"
    echo "SKIP: $suite: $reason"
}
