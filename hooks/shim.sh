#!/bin/sh
# migguard-managed hook v1
# Written by `migguard install`, removed by `migguard uninstall`; edits are overwritten.
# It only finds the binary and forwards git's arguments: the logic is in Rust.
[ "${MIGGUARD:-1}" = "0" ] && exit 0
bin_dir='@BIN_DIR@'
bin="$bin_dir/migguard-@HOOK@"
if [ ! -x "$bin" ]; then
    bin=$(command -v migguard-@HOOK@ 2>/dev/null) || bin=
fi
if [ -z "$bin" ]; then
    echo "migguard: migguard-@HOOK@ not found in $bin_dir or on PATH; skipping the @HOOK@ hook (run \`migguard uninstall\` to remove it)" >&2
    exit 0
fi
exec "$bin" --hook-dir "$(dirname "$0")" -- "$@"
