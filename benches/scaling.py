#!/usr/bin/env python3
"""How `migguard check` grows with its input: a benchmark, not a test.

Each shape is generated at sizes n, 4n and 16n in a temporary project and
checked once per size (after one untimed run that fills the parse cache is
*not* done: every run reads the files afresh, so parsing is included). A
shape fails when a 4x larger input takes more than 4 * log(4n)/log(n) * 1.5
times as long, i.e. grows faster than n log n with a 50% margin for noise.

Shapes:

* ``addfield``: one model and n ``AddField`` operations in one migration
  (the model state's field lookup);
* ``models-in-sync``: n models in models.py and the migration creating them
  (the static autodetector when nothing changed);
* ``models-to-propose``: n models, related in a chain, and no migration for
  them (the autodetector and Django's optimizer proposing n CreateModel);
* ``migrations``: one app with n migrations of one AddField each (the graph
  and the replay).

Usage::

    cargo build --release
    python3 benches/scaling.py [--migguard target/release/migguard]
                               [--only SHAPE] [--base N]

Exit status 1 when a shape grows faster than n log n.
"""

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAD = "from django.db import migrations, models\n\n"
ID = ("('id', models.AutoField(auto_created=True, primary_key=True, "
      "serialize=False, verbose_name='ID'))")


def migration(operations, dependencies="", initial=False):
    return (HEAD + "class Migration(migrations.Migration):\n"
            + ("    initial = True\n" if initial else "")
            + f"    dependencies = [{dependencies}]\n"
            + "    operations = [\n" + "".join(f"        {op},\n" for op in operations)
            + "    ]\n")


def addfield(n):
    ops = [f"migrations.CreateModel(name='Post', fields=[{ID}])"]
    ops += [f"migrations.AddField(model_name='post', name='f{i}', "
            f"field=models.IntegerField(default=0))" for i in range(n)]
    return {"blog/migrations/0001_initial.py": migration(ops, initial=True)}


def models_in_sync(n):
    ops = [f"migrations.CreateModel(name='M{i}', fields=[{ID}, "
           f"('x', models.IntegerField(default=0))])" for i in range(n)]
    models = "from django.db import models\n\n" + "".join(
        f"class M{i}(models.Model):\n    x = models.IntegerField(default=0)\n\n"
        for i in range(n))
    return {"blog/models.py": models,
            "blog/migrations/0001_initial.py": migration(ops, initial=True)}


def models_to_propose(n):
    models = "from django.db import models\n\n" + "".join(
        f"class M{i}(models.Model):\n    x = models.IntegerField(default=0)\n"
        f"    prev = models.ForeignKey('M{max(i - 1, 0)}', null=True, "
        f"on_delete=models.CASCADE, related_name='+')\n\n"
        for i in range(n))
    return {"blog/models.py": models,
            "blog/migrations/0001_initial.py": migration([], initial=True)}


def many_migrations(n):
    files = {"blog/migrations/0001_initial.py": migration(
        [f"migrations.CreateModel(name='Post', fields=[{ID}])"], initial=True)}
    previous = "0001_initial"
    for i in range(2, n + 2):
        name = f"{i:04d}_f{i}"
        files[f"blog/migrations/{name}.py"] = migration(
            [f"migrations.AddField(model_name='post', name='f{i}', "
             f"field=models.IntegerField(default=0))"],
            dependencies=f"('blog', '{previous}')")
        previous = name
    return files


SHAPES = {
    "addfield": (addfield, 5000),
    "models-in-sync": (models_in_sync, 500),
    "models-to-propose": (models_to_propose, 250),
    "migrations": (many_migrations, 250),
}


def run_once(migguard, files):
    root = tempfile.mkdtemp(prefix="migguard-scaling-")
    try:
        for path, text in {"blog/__init__.py": "", "blog/migrations/__init__.py": "",
                           **files}.items():
            full = os.path.join(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)
        start = time.perf_counter()
        proc = subprocess.run([migguard, "check", "--format", "json", root],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - start
        if proc.returncode not in (0, 1):
            raise SystemExit(f"migguard failed: {proc.stderr.decode()[-500:]}")
        return elapsed
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--migguard", default=os.path.join(REPO, "target", "release", "migguard"))
    parser.add_argument("--only", action="append", choices=sorted(SHAPES))
    parser.add_argument("--base", type=int, help="n for every shape (default: per shape)")
    args = parser.parse_args()
    if not os.path.exists(args.migguard):
        sys.exit(f"{args.migguard} is missing: run `cargo build --release` first")
    failed = []
    print("| shape | n | time (s) | x time for 4x input | n log n allows |")
    print("|---|---:|---:|---:|---:|")
    for shape, (make, base) in SHAPES.items():
        if args.only and shape not in args.only:
            continue
        n = args.base or base
        previous = None
        for size in (n, 4 * n, 16 * n):
            elapsed = run_once(args.migguard, make(size))
            if previous is None:
                ratio, allowed = "", ""
            else:
                growth = elapsed / max(previous[1], 1e-3)
                limit = 4 * math.log(size) / math.log(previous[0]) * 1.5
                ratio, allowed = f"{growth:.1f}", f"{limit:.1f}"
                if growth > limit and elapsed > 0.2:
                    failed.append(f"{shape}: {previous[0]} -> {size} took {growth:.1f}x "
                                  f"(n log n allows {limit:.1f}x)")
            print(f"| {shape} | {size} | {elapsed:.2f} | {ratio} | {allowed} |", flush=True)
            previous = (size, elapsed)
    for line in failed:
        print(f"grows faster than n log n: {line}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
