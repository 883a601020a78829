#!/usr/bin/env python3
"""Compare migguard's speed with Django's own tooling on a large project.

This is a benchmark, not a test.  It copies a fixture project (default:
``tests/fixtures/django/projects/large``, 42 apps / ~2,100 migrations, produced
by ``tests/fixtures/django/generate.py``) into a temporary directory and times,
``--reps`` times each after ``--warmup`` untimed runs:

* ``migguard check <project>``   (binary from ``--migguard``; row skipped if missing),
  on the copy (nothing cached) and on the copy committed to a git repository
  (parsed files from the cache in the git directory, as the hooks see it)
* ``ast.parse`` of every migration file in one Python process: both the
  in-process time of the parse loop alone and the whole process' wall time
* ``python manage.py makemigrations --check --dry-run``
* ``python manage.py showmigrations``  (no ``migrate``: with an empty sqlite
  database every migration is simply shown as unapplied)
* any ``--extra NAME=CMD`` rows: CMD is run through the shell in the copied
  project directory; ``{project}`` in CMD is replaced by that directory and
  ``{python}`` by the Python interpreter running this script.

Wall times are measured around ``subprocess.run`` with ``time.perf_counter``.
The result is a markdown table (median and min in milliseconds, and the ratio of
each row's median to migguard's median).  Commands that exit non-zero are still
timed; their exit codes are listed under the table.

Usage::

    cargo build --release
    pip install -r tests/fixtures/django/requirements.txt
    python3 benches/compare.py [--reps 5] [--migguard target/release/migguard]
                               [--project DIR] [--extra NAME=CMD ...]
"""

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_PROJECT = os.path.join(REPO, "tests", "fixtures", "django", "projects", "large")
DEFAULT_MIGGUARD = os.path.join(REPO, "target", "release", "migguard")

# Run by `python3 -c`: parse every migration file, print the loop's own time.
AST_SNIPPET = r"""
import ast, os, sys, time
files = []
for root, dirs, names in os.walk(sys.argv[1]):
    dirs[:] = sorted(d for d in dirs if d != "__pycache__")
    if os.path.basename(root) == "migrations":
        files += [os.path.join(root, n) for n in sorted(names)
                  if n.endswith(".py") and n != "__init__.py"]
sources = []
for path in files:
    with open(path, "rb") as fh:
        sources.append(fh.read())
start = time.perf_counter()
for path, src in zip(files, sources):
    ast.parse(src, filename=path)
print("%d %.6f" % (len(files), time.perf_counter() - start))
"""


def run(cmd, cwd, shell=False):
    """Run cmd once; return (wall seconds, exit code, stdout)."""
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=cwd, shell=shell, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return time.perf_counter() - start, proc.returncode, proc.stdout


def bench(name, cmd, cwd, reps, warmup, rows, shell=False, parse_inner=None):
    """Time cmd; append a row (and an extra in-process row if parse_inner)."""
    print("timing: %s" % name, file=sys.stderr, flush=True)
    for _ in range(warmup):
        run(cmd, cwd, shell)
    walls, inner, codes = [], [], set()
    for _ in range(reps):
        wall, code, out = run(cmd, cwd, shell)
        walls.append(wall)
        codes.add(code)
        if parse_inner:
            inner.append(parse_inner(out))
    if parse_inner:
        rows.append({"name": name + " (parse loop, in-process)", "times": inner, "codes": codes})
        rows.append({"name": name + " (whole process)", "times": walls, "codes": codes})
    else:
        rows.append({"name": name, "times": walls, "codes": codes})


IN_REPO = "migguard check (in a git repository: parse cache warm)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="timed runs per command (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    parser.add_argument("--migguard", default=DEFAULT_MIGGUARD, help="migguard binary")
    parser.add_argument("--project", default=DEFAULT_PROJECT, help="Django project to copy")
    parser.add_argument(
        "--extra", action="append", default=[], metavar="NAME=CMD", help="extra row (repeatable)"
    )
    args = parser.parse_args()

    if not os.path.isfile(os.path.join(args.project, "manage.py")):
        sys.exit(
            "no Django project at %s; run tests/fixtures/django/generate.py large" % args.project
        )
    python = sys.executable
    rows, notes = [], []
    with tempfile.TemporaryDirectory(prefix="migguard-bench-") as tmp:
        project = os.path.join(tmp, os.path.basename(os.path.normpath(args.project)))
        shutil.copytree(
            args.project, project, ignore=shutil.ignore_patterns("__pycache__", "db.sqlite3")
        )
        n_files = sum(
            1
            for root, _, names in os.walk(project)
            if os.path.basename(root) == "migrations"
            for n in names
            if n.endswith(".py") and n != "__init__.py"
        )

        migguard = os.path.abspath(args.migguard)
        if os.path.isfile(migguard) and os.access(migguard, os.X_OK):
            bench("migguard check", [migguard, "check", project], tmp, args.reps, args.warmup, rows)
            # The same project committed to a git repository, as the hooks and
            # `migguard check` meet it: parsed files come from the cache in the
            # git directory (Django's rows have their __pycache__ warm too).
            in_repo = os.path.join(tmp, "in-repo")
            shutil.copytree(project, in_repo)
            identity = ["-c", "user.name=bench", "-c", "user.email=bench@invalid"]
            for git_args in (["init", "-q"], ["add", "-A"], identity + ["commit", "-q", "-m", "bench"]):
                subprocess.run(["git"] + git_args, cwd=in_repo, check=True)
            bench(
                IN_REPO,
                [migguard, "check", in_repo],
                tmp,
                args.reps,
                args.warmup,
                rows,
            )
        else:
            notes.append("migguard binary not found at %s: row skipped" % args.migguard)

        bench(
            "python ast.parse all migrations",
            [python, "-c", AST_SNIPPET, project],
            tmp,
            args.reps,
            args.warmup,
            rows,
            parse_inner=lambda out: float(out.split()[1]),
        )
        bench(
            "manage.py makemigrations --check --dry-run",
            [python, "manage.py", "makemigrations", "--check", "--dry-run"],
            project,
            args.reps,
            args.warmup,
            rows,
        )
        bench(
            "manage.py showmigrations",
            [python, "manage.py", "showmigrations"],
            project,
            args.reps,
            args.warmup,
            rows,
        )
        for spec in args.extra:
            name, sep, cmd = spec.partition("=")
            if not sep or not name or not cmd:
                sys.exit("--extra expects NAME=CMD, got %r" % spec)
            cmd = cmd.replace("{project}", shlex.quote(project)).replace(
                "{python}", shlex.quote(python)
            )
            bench(name, cmd, project, args.reps, args.warmup, rows, shell=True)

    base = next((r for r in rows if r["name"] == "migguard check"), None)
    base_median = statistics.median(base["times"]) if base else None
    print(
        "Project: %s (%d migration files), %d runs each after %d warm-up run(s)\n"
        % (os.path.basename(os.path.normpath(args.project)), n_files, args.reps, args.warmup)
    )
    print("| command | median ms | min ms | ratio to migguard |")
    print("| --- | ---: | ---: | ---: |")
    for row in rows:
        median = statistics.median(row["times"])
        ratio = "%.1fx" % (median / base_median) if base_median else "n/a"
        print("| %s | %.1f | %.1f | %s |" % (row["name"], median * 1e3, min(row["times"]) * 1e3, ratio))
        bad = sorted(c for c in row["codes"] if c != 0)
        if bad:
            notes.append("%s exited with status %s" % (row["name"], ", ".join(map(str, bad))))
    medians = {row["name"]: statistics.median(row["times"]) for row in rows}
    django = medians.get("manage.py makemigrations --check --dry-run")
    if django:
        print()
        for name in ("migguard check", IN_REPO):
            if medians.get(name):
                print(
                    "makemigrations --check takes %.0fx the time of %s"
                    % (django / medians[name], name)
                )
    if notes:
        print()
        for note in notes:
            print("- " + note)


if __name__ == "__main__":
    main()
