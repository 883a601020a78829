#!/usr/bin/env bash
# Install migguard's binaries, then its git hooks in a repository.
#
#   ./install.sh [--prefix DIR] [--repo PATH] [--uninstall] [--no-build]
#
# Builds `cargo build --release --locked` (unless --no-build) and copies
# migguard and the hook binaries migguard-pre-commit, migguard-pre-merge-commit,
# migguard-post-checkout and migguard-pre-push to PREFIX/bin (default: $PREFIX,
# else ~/.local). Then, for the repository given with --repo, or else the git
# repository around the current directory (unless it is this source checkout),
# it runs `PREFIX/bin/migguard install --repo REPO --bin-dir PREFIX/bin`.
# --uninstall runs `migguard uninstall` for that repository and removes the
# five binaries. Safe to rerun. The hook logic is in `migguard install`, not here.
#
# MIGGUARD_BUILD_DIR: where the built binaries are (default: target/release).
set -euo pipefail

BINARIES=(migguard migguard-pre-commit migguard-pre-merge-commit migguard-post-checkout migguard-pre-push)
SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

prefix=${PREFIX:-$HOME/.local}
repo=""
uninstall=0
build=1

usage() {
    sed -n '2,16s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

die() {
    echo "install.sh: error: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix)
            [ $# -ge 2 ] || die "--prefix needs a directory"
            prefix=$2
            shift 2
            ;;
        --prefix=*)
            prefix=${1#--prefix=}
            shift
            ;;
        --repo)
            [ $# -ge 2 ] || die "--repo needs a path"
            repo=$2
            shift 2
            ;;
        --repo=*)
            repo=${1#--repo=}
            shift
            ;;
        --uninstall)
            uninstall=1
            shift
            ;;
        --no-build)
            build=0
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            usage >&2
            die "unknown argument: $1"
            ;;
    esac
done

[ -n "$prefix" ] || die "the prefix is empty"
case "$prefix" in
    /*) ;;
    *) prefix="$PWD/$prefix" ;;
esac
bin_dir="${prefix%/}/bin"
build_dir=${MIGGUARD_BUILD_DIR:-$SRC_DIR/target/release}

# The repository to put the hooks in: --repo, else the one around the
# current directory unless it is migguard's own source checkout.
if [ -z "$repo" ]; then
    if here=$(git rev-parse --show-toplevel 2>/dev/null) && [ -n "$here" ]; then
        here=$(cd "$here" && pwd -P)
        src_top=$(git -C "$SRC_DIR" rev-parse --show-toplevel 2>/dev/null || true)
        if [ -n "$src_top" ]; then
            src_top=$(cd "$src_top" && pwd -P)
        fi
        if [ "$here" != "$src_top" ]; then
            repo=$here
        fi
    fi
fi

if [ "$uninstall" = 1 ]; then
    if [ -n "$repo" ]; then
        if [ -x "$bin_dir/migguard" ]; then
            "$bin_dir/migguard" uninstall --repo "$repo"
        else
            echo "install.sh: warning: $bin_dir/migguard is not there; cannot remove the hooks from $repo" >&2
        fi
    fi
    for name in "${BINARIES[@]}"; do
        if [ -e "$bin_dir/$name" ]; then
            rm -f "$bin_dir/$name"
            echo "removed $bin_dir/$name"
        fi
    done
    exit 0
fi

if [ "$build" = 1 ]; then
    (cd "$SRC_DIR" && cargo build --release --locked)
fi

for name in "${BINARIES[@]}"; do
    [ -x "$build_dir/$name" ] || die "$build_dir/$name is missing; build first (without --no-build) or set MIGGUARD_BUILD_DIR"
done

mkdir -p "$bin_dir"
for name in "${BINARIES[@]}"; do
    # Copy then rename, so a running hook keeps its old binary.
    cp "$build_dir/$name" "$bin_dir/.$name.tmp"
    chmod 0755 "$bin_dir/.$name.tmp"
    mv -f "$bin_dir/.$name.tmp" "$bin_dir/$name"
done
echo "installed ${BINARIES[*]} in $bin_dir"

case ":$PATH:" in
    *":$bin_dir:"*) ;;
    *) echo "install.sh: warning: $bin_dir is not on PATH; add it to run migguard by name (the hooks find it anyway)" >&2 ;;
esac

if [ -n "$repo" ]; then
    "$bin_dir/migguard" install --repo "$repo" --bin-dir "$bin_dir"
else
    echo "no repository to put the hooks in: rerun with --repo PATH, or run \`migguard install\` inside one"
fi
