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
    reason=${reason//$'\t'/ }   # one record a line: a reason of several lines (a daemon's
    reason=${reason//$'\n'/; }  # warnings, then its error) is joined
    mkdir -p "${skip_file%/*}"
    printf '%s\t%s\t%s\n' "$suite" "$component" "$reason" >>"$skip_file"
    echo "SKIP: $suite: $reason"
}

# last_error_line TEXT PREFIX: the last line of TEXT that starts with PREFIX, without it (a
# script's own error after the warnings of what it ran); all of TEXT when no line does.
last_error_line() {
    local line found=
    while IFS= read -r line; do
        [[ $line == "$2"* ]] && found=${line#"$2"}
    done <<<"$1"
    printf '%s' "${found:-$1}"
}
