#!/usr/bin/env python3
"""migguard on real Django projects: precision, coverage and recall.

Every project of ``benches/realworld.toml`` is read at its pinned commit
(or pinned PyPI release), and ``migguard check --format json`` runs on it
as a user would run it in their checkout. Per project it reports:

- the error-level findings (the goal is none: every one would block a
  commit of a project whose own CI keeps ``makemigrations --check`` clean);
- how much was read: apps and migrations migguard found, against every
  module in a ``migrations/`` package of the tree;
- how many fields ended as ``unknown-field`` (MG202, not compared);
- recall: for each app, its newest leaf migration that changes the schema
  is deleted and the check runs again; a hit is a ``missing-migration``
  for that app.

A measurement, not a timed test: nothing here looks at the clock.

Usage::

    cargo build --release
    python3 benches/realworld.py [--source git|pypi|all] [--mirror DIR]
                                 [--only NAME] [--recall N] [--check] [--write]

``--check`` exits 1 unless every project has 0 errors, reads >= 95% of
its migrations and recall is >= 90%; ``--write`` replaces the table in
docs/realworld.md; ``--json`` prints the measurements as JSON.
"""

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import tomllib
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MANIFEST = os.path.join(HERE, "realworld.toml")
DOC = os.path.join(REPO, "docs", "realworld.md")

# What migguard needs of a tree: Python modules, configuration, and the
# text files beside migrations (max_migration.txt).
KEEP = (".py", ".toml", ".cfg", ".ini", ".txt")
MAX_BYTES = 4 * 1024 * 1024

# Operations that change the schema: what makemigrations writes back when
# their migration is gone.
SCHEMA_OPS = {
    "CreateModel", "DeleteModel", "RenameModel", "AlterModelTable", "AlterModelTableComment",
    "AlterUniqueTogether", "AlterIndexTogether", "AlterOrderWithRespectTo", "AlterModelOptions",
    "AlterModelManagers", "AddField", "RemoveField", "AlterField", "RenameField", "AddIndex",
    "RemoveIndex", "RenameIndex", "AddConstraint", "RemoveConstraint", "AlterConstraint",
}

GOAL_READ = 0.95
GOAL_RECALL = 0.90


# --- sources ------------------------------------------------------------------

def git(*args, cwd=None, input=None):
    return subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, check=True)


def bare_clone(project, mirror, work):
    """A git directory holding the pinned commit."""
    owner, name = project["git"].split("/")
    for candidate in ([os.path.join(mirror, f"{owner}+{name}", "repo"),
                       os.path.join(mirror, f"{name}.git")] if mirror else []):
        if os.path.isdir(candidate):
            return candidate
    target = os.path.join(work, f"{owner}+{name}.git")
    if not os.path.isdir(target):
        git("clone", "--bare", "--filter=blob:limit=4m", f"https://github.com/{project['git']}", target)
    return target


def extract_git(project, mirror, work, dest):
    """The commit's text files into dest; blobs the clone lacks are skipped."""
    gitdir = bare_clone(project, mirror, work)
    listing = git("--git-dir", gitdir, "ls-tree", "-r", "-z", "--long", project["commit"]).stdout
    wanted = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, path = entry.split(b"\t", 1)
        mode, kind, oid, size = meta.split()
        path = path.decode("utf-8", "surrogateescape")
        if kind != b"blob" or mode == b"120000" or not path.endswith(KEEP):
            continue
        if size.isdigit() and int(size) > MAX_BYTES:
            continue
        wanted.append((oid.decode(), path))
    proc = subprocess.Popen(["git", "--git-dir", gitdir, "cat-file", "--batch"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    # Feed the names from a thread: git answers while it reads them.
    def feed():
        proc.stdin.write("".join(f"{oid}\n" for oid, _ in wanted).encode())
        proc.stdin.close()
    writer = threading.Thread(target=feed)
    writer.start()
    for oid, path in wanted:
        header = proc.stdout.readline().split()
        if len(header) < 3:  # "<oid> missing": not in a partial clone
            continue
        data = proc.stdout.read(int(header[2]))
        proc.stdout.read(1)
        out = os.path.join(dest, path)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "wb") as f:
            f.write(data)
    writer.join()
    proc.wait()


def fetch_wheel(spec, work):
    """The wheel of a pinned release (`name==version`), downloaded once."""
    wheels = os.path.join(work, "wheels")
    os.makedirs(wheels, exist_ok=True)
    name, version = spec.split("==")
    prefix = f"{name.replace('-', '_').lower()}-{version}-"
    found = [f for f in os.listdir(wheels) if f.lower().startswith(prefix) and f.endswith(".whl")]
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary=:all:", "--python-version", "3.13",
                        "--dest", wheels, spec], check=True, capture_output=True)
        found = [f for f in os.listdir(wheels) if f.lower().startswith(prefix) and f.endswith(".whl")]
    return os.path.join(wheels, found[0])


def extract_wheel(path, dest):
    with zipfile.ZipFile(path) as wheel:
        for member in wheel.infolist():
            if member.filename.endswith(KEEP) and ".dist-info/" not in member.filename \
                    and member.file_size <= MAX_BYTES:
                wheel.extract(member, dest)


def extract_pypi(project, work, dest):
    """The pinned release's wheel into dest (what site-packages would hold)."""
    extract_wheel(fetch_wheel(project["pypi"], work), dest)


def install_libraries(project, work, root):
    """The project's pinned `libraries` into a virtualenv's site-packages
    in the tree (`.venv/lib/python3.13/site-packages`), where migguard
    finds them as in a developer's checkout."""
    site = os.path.join(root, ".venv", "lib", "python3.13", "site-packages")
    for spec in project.get("libraries", []):
        extract_wheel(fetch_wheel(spec, work), site)


def toml_value(value):
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)


def write_config(project, root):
    """Add the project's `config` as a [tool.migguard] table of its
    pyproject.toml, unless it has one already."""
    config = project.get("config")
    if not config:
        return
    path = os.path.join(root, "pyproject.toml")
    text = open(path).read() if os.path.exists(path) else ""
    if "[tool.migguard]" in text:
        return
    lines = ["[tool.migguard]"] + [f"{key} = {toml_value(value)}" for key, value in config.items()]
    with open(path, "a") as f:
        f.write(("\n" if text and not text.endswith("\n") else "") + "\n".join(lines) + "\n")


# --- measuring ------------------------------------------------------------------

def check(migguard, root):
    proc = subprocess.run([migguard, "check", "--format", "json", root],
                          capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"migguard exited {proc.returncode}: {proc.stderr.strip()[-400:]}")
    return json.loads(proc.stdout)


def graph(migguard, root):
    proc = subprocess.run([migguard, "graph", "--format", "json", root],
                          capture_output=True, text=True)
    return json.loads(proc.stdout) if proc.stdout.strip() else {}


def migration_modules(root):
    """Every module of a `migrations` package in the tree, Django's way of
    naming them (no `_` or `~` prefix), whether or not its app is installed."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "node_modules"]
        if os.path.basename(dirpath) != "migrations" or "__init__.py" not in filenames:
            continue
        for f in filenames:
            if f.endswith(".py") and not f.startswith(("_", "~")):
                found.append(os.path.relpath(os.path.join(dirpath, f), root))
    return found


def recall_tries(graph_json, root, limit):
    """(app, path) of each app's newest leaf migration that changes the
    schema and that no other migration depends on."""
    migrations = graph_json.get("migrations", [])
    by_key = {(m["app"], m["name"]): m for m in migrations}
    depended = {tuple(d) for m in migrations for d in m.get("dependencies", [])}
    tries = []
    for app, leaves in sorted(graph_json.get("leaves", {}).items()):
        for name in leaves:
            migration = by_key.get((app, name))
            if not migration or (app, name) in depended or migration.get("replaces"):
                continue
            kinds = {op.get("type") for op in migration.get("operations", [])}
            if kinds & SCHEMA_OPS:
                tries.append((app, os.path.join(root, migration["path"])))
    return tries[:limit] if limit else tries


def proposed(report, app):
    """The operations `missing-migration` reports for `app`, comparable."""
    return {json.dumps(op, sort_keys=True)
            for d in report["diagnostics"]
            if d["rule"] == "missing-migration" and d.get("app") == app
            for op in (d.get("details") or {}).get("operations") or [d["message"]]}


def measure(migguard, project, root, recall_limit):
    before = check(migguard, root)
    diagnostics = before["diagnostics"]
    rules = collections.Counter(d["rule"] for d in diagnostics)
    # Findings the manifest records as real (verified with Django): not
    # counted against precision.
    known = [(k["path"], k["rule"]) for k in project.get("known", [])]
    real = [d for d in diagnostics if d["severity"] == "error" and (d.get("path"), d["rule"]) in known]
    errors = [d for d in diagnostics if d["severity"] == "error" and d not in real]
    summary = before["summary"]
    # Apps the manifest records as not installed by the settings read
    # (optional apps, test forks): their migrations are not expected.
    skipped = tuple(d.rstrip("/") + "/" for d in project.get("not_installed", []))
    on_disk = [p for p in migration_modules(root) if not p.startswith(skipped)]
    graph_json = graph(migguard, root)
    hits, tried, missed = 0, 0, []
    for app, path in recall_tries(graph_json, root, recall_limit):
        saved = open(path, "rb").read()
        os.remove(path)
        try:
            after = check(migguard, root)
        finally:
            with open(path, "wb") as f:
                f.write(saved)
        tried += 1
        # A hit is a finding the deletion caused: the app's reported
        # changes differ from those reported before anything was deleted.
        if proposed(after, app) - proposed(before, app):
            hits += 1
        else:
            missed.append(f"{app}: {os.path.relpath(path, root)}")
    return {
        "project": project["name"],
        "source": project.get("pypi") or f"{project['git']}@{project['commit'][:10]}",
        "apps": summary.get("apps"),
        "migrations": summary.get("migrations"),
        "on_disk": len(on_disk),
        "errors": len(errors),
        "real": len(real),
        "warnings": summary["warnings"],
        "infos": summary["infos"],
        "mg202": rules.get("unresolved-model", 0),
        "uncertain": sum(1 for d in diagnostics if d["rule"] == "missing-migration"
                         and d["severity"] != "error"),
        "recall_hits": hits,
        "recall_tries": tried,
        "recall_missed": missed,
        "error_findings": [f'{d.get("path")}:{d.get("line")}: {d["rule"]}: {d["message"]}'
                           for d in errors],
    }


def read_share(row):
    if not row["on_disk"]:
        return 1.0 if row["migrations"] else 0.0
    return min(1.0, (row["migrations"] or 0) / row["on_disk"])


def errors_cell(row):
    """Unexpected errors, and the real ones the manifest records."""
    real = row.get("real")
    return f"{row['errors']} (+{real} real)" if real else str(row["errors"])


def table(rows):
    lines = [
        "| project | source | apps | migrations read / on disk | errors | warnings | infos "
        "| MG202 | uncertain | recall |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "failure" in r:
            lines.append(f"| {r['project']} | {r['source']} | | | | | | | | {r['failure']} |")
            continue
        recall = f"{r['recall_hits']}/{r['recall_tries']}" if r["recall_tries"] else "-"
        lines.append(
            f"| {r['project']} | `{r['source']}` | {r['apps']} | {r['migrations']} / {r['on_disk']} "
            f"({read_share(r):.0%}) | {errors_cell(r)} | {r['warnings']} | {r['infos']} | {r['mg202']} "
            f"| {r['uncertain']} | {recall} |")
    hits = sum(r.get("recall_hits", 0) for r in rows)
    tries = sum(r.get("recall_tries", 0) for r in rows)
    if tries:
        lines.append(f"\nRecall over all projects: {hits}/{tries} ({hits / tries:.0%}).")
    return "\n".join(lines)


def verdicts(rows):
    failures = []
    for r in rows:
        if "failure" in r:
            failures.append(f"{r['project']}: {r['failure']}")
            continue
        if r["errors"]:
            failures.append(f"{r['project']} ({r['source']}): {r['errors']} error(s)")
        if read_share(r) < GOAL_READ:
            failures.append(f"{r['project']} ({r['source']}): read {read_share(r):.0%} of its migrations")
    hits = sum(r.get("recall_hits", 0) for r in rows)
    tries = sum(r.get("recall_tries", 0) for r in rows)
    if tries and hits / tries < GOAL_RECALL:
        failures.append(f"recall {hits}/{tries} is under {GOAL_RECALL:.0%}")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--migguard", default=os.path.join(REPO, "target", "release", "migguard"))
    parser.add_argument("--source", choices=["git", "pypi", "all"], default="all")
    parser.add_argument("--mirror", help="directory of bare clones (owner+name/repo or name.git)")
    parser.add_argument("--work", help="keep downloads and extracted trees here")
    parser.add_argument("--only", action="append", help="project name (repeatable)")
    parser.add_argument("--recall", type=int, default=0, help="at most N recall tries per project")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every goal is met")
    parser.add_argument("--write", action="store_true", help="update docs/realworld.md")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    args = parser.parse_args()
    if not os.path.exists(args.migguard):
        sys.exit(f"{args.migguard} is missing: run `cargo build --release` first")
    with open(MANIFEST, "rb") as f:
        projects = tomllib.load(f)["project"]
    work = args.work or tempfile.mkdtemp(prefix="migguard-realworld-")
    rows = []
    try:
        for project in projects:
            kind = "pypi" if "pypi" in project else "git"
            if args.source not in (kind, "all") or (args.only and project["name"] not in args.only):
                continue
            dest = os.path.join(work, "trees", f"{project['name']}-{kind}")
            shutil.rmtree(dest, ignore_errors=True)
            os.makedirs(dest)
            try:
                if kind == "pypi":
                    extract_pypi(project, work, dest)
                else:
                    extract_git(project, args.mirror, work, dest)
                root = os.path.join(dest, project.get("root", ""))
                write_config(project, root)
                install_libraries(project, work, root)
                row = measure(args.migguard, project, root, args.recall)
            except (subprocess.CalledProcessError, RuntimeError, OSError) as err:
                detail = getattr(err, "stderr", b"") or b""
                if isinstance(detail, bytes):
                    detail = detail.decode(errors="replace")
                row = {"project": project["name"],
                       "source": project.get("pypi") or project.get("git"),
                       "failure": f"{err} {detail.strip()[-300:]}".strip()}
            rows.append(row)
            print(f"{row['project']:22} {row['source'][:40]:40} "
                  + ("FAILED " + row["failure"] if "failure" in row else
                     f"errors={row['errors']} read={row['migrations']}/{row['on_disk']} "
                     f"mg202={row['mg202']} recall={row['recall_hits']}/{row['recall_tries']}"),
                  file=sys.stderr)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(table(rows))
        for r in rows:
            for line in r.get("error_findings", []) + [f"recall miss: {m}" for m in r.get("recall_missed", [])]:
                print(f"  {r['project']}: {line}")
    if args.write:
        text = open(DOC).read() if os.path.exists(DOC) else "<!-- realworld:begin -->\n<!-- realworld:end -->\n"
        start, end = "<!-- realworld:begin -->", "<!-- realworld:end -->"
        head, _, rest = text.partition(start)
        _, _, tail = rest.partition(end)
        with open(DOC, "w") as f:
            f.write(f"{head}{start}\n{table(rows)}\n{end}{tail}")
    failures = verdicts(rows)
    for failure in failures:
        print(f"not met: {failure}", file=sys.stderr)
    if args.check and failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
