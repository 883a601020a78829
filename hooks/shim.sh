#!/bin/sh
# migguard-managed hook v1
# Written by `migguard install`, removed by `migguard uninstall`; edits are overwritten.
# It only finds the binary and forwards git's arguments: the logic is in Rust.
# The hook that was here before (`<hook>.legacy`) runs in every case: migguard
# runs it first, and when migguard is skipped (MIGGUARD=0) or missing, it runs alone.
case "$0" in
    # Moved aside by another hook manager that now runs it as its own legacy
    # hook: that manager runs the previous hooks, not us.
    *.legacy) legacy= ;;
    *) legacy="$0.legacy" ;;
esac
run_legacy_alone() {
    if [ -n "$legacy" ] && [ -x "$legacy" ]; then
        exec "$legacy" "$@"
    fi
    exit 0
}
[ "${MIGGUARD:-1}" = "0" ] && run_legacy_alone "$@"
bin_dir='@BIN_DIR@'
bin="$bin_dir/migguard-@HOOK@"
if [ ! -x "$bin" ]; then
    bin=$(command -v migguard-@HOOK@ 2>/dev/null) || bin=
fi
if [ -z "$bin" ]; then
    echo "migguard: migguard-@HOOK@ not found in $bin_dir or on PATH; skipping the @HOOK@ hook (run \`migguard uninstall\` to remove it)" >&2
    run_legacy_alone "$@"
fi
if [ -z "$legacy" ]; then
    exec "$bin" -- "$@"
fi
exec "$bin" --hook-dir "$(dirname "$0")" -- "$@"
