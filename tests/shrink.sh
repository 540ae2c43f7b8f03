# Sourced by the shell tests that chain runs in a scratch copy of configs/.
# shrink FILE KEY=VALUE...: FILE becomes a config whose base is its old text (FILE.orig.yaml
# beside it) and which sets those keys itself. A run of it without overrides then writes the
# stem its readers look for and the config hash they expect, at the size of a test: readers
# refuse a result made with command-line overrides.
shrink() {
    local f=$1 kv
    shift
    mv "$f" "${f%.yaml}.orig.yaml"
    {
        echo "base: $(basename "${f%.yaml}.orig.yaml")"
        for kv in "$@"; do echo "${kv%%=*}: ${kv#*=}"; done
    } >"$f"
}
