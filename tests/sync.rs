//! `migguard sync` and per-branch snapshots, end to end: real git (with the
//! hooks installed), real Django migrating real databases (SQLite files, the
//! PostgreSQL server on 127.0.0.1:5432, the MariaDB server on
//! 127.0.0.1:3306, each test with its own database, dropped by a guard).
//!
//! The project is the `conflict_merged` fixture made by Django: `main` has
//! `orders` 0001-0002 (shipping address) and `inventory` 0001; the
//! `feature` branch adds `orders.0003_order_shipping_country` and
//! `inventory.0002_a_item_sku`, both written by `makemigrations`.

#![allow(clippy::print_stderr)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use crate::support::db::{MyDb, PgDb};
use crate::support::git::{describe, GitRepo};
use crate::support::{fixture_project, python};

type Key = (String, String);

const PROJECT_APPS: [&str; 2] = ["orders", "inventory"];
const MAIN: [(&str, &str); 3] = [
    ("inventory", "0001_initial"),
    ("orders", "0001_initial"),
    ("orders", "0002_add_shipping_address_to_order"),
];
const FEATURE_FILES: [&str; 2] = [
    "orders/migrations/0003_order_shipping_country.py",
    "inventory/migrations/0002_a_item_sku.py",
];

/// Migrations of the fixture that `main` does not have.
fn later(rel: &str) -> bool {
    [
        "orders/migrations/0002_add_billing_address_to_order.py",
        "orders/migrations/0003_order_shipping_country.py",
        "orders/migrations/0004_merge_20240101_1200.py",
        "inventory/migrations/0002_a_item_sku.py",
        "inventory/migrations/0002_b_item_weight.py",
        "inventory/migrations/0003_merge_0002_a_item_sku_0002_b_item_weight.py",
    ]
    .contains(&rel)
}

fn copy_tree(repo: &GitRepo, from: &Path, rel: &str) {
    for entry in std::fs::read_dir(from.join(rel)).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let child = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if name == "__pycache__" || name.ends_with(".sqlite3") || later(&child) {
            continue;
        }
        if entry.path().is_dir() {
            copy_tree(repo, from, &child);
        } else {
            repo.write(&child, &std::fs::read_to_string(entry.path()).unwrap());
        }
    }
}

/// Model lines of the fixture that `main`'s migrations do not create, per
/// `models.py`, and whether `feature`'s do.
const LATER_FIELDS: [(&str, &str, bool); 4] = [
    (
        "inventory/models.py",
        "    sku = models.CharField(max_length=32, default=\"\")\n",
        true,
    ),
    (
        "inventory/models.py",
        "    weight = models.DecimalField(max_digits=8, decimal_places=3, null=True)\n",
        false,
    ),
    (
        "orders/models.py",
        "    shipping_country = models.CharField(max_length=2, default=\"GB\")\n",
        true,
    ),
    (
        "orders/models.py",
        "    billing_address = models.TextField(blank=True, default=\"\")\n",
        false,
    ),
];

/// Write the fixture's `models.py` files as `main` (`feature == false`) or
/// `feature` has them: in step with the branch's migrations, as the
/// pre-commit hook wants.
fn write_models(repo: &GitRepo, feature: bool) {
    for rel in ["inventory/models.py", "orders/models.py"] {
        let mut text = fixture(rel);
        for (file, line, on_feature) in LATER_FIELDS {
            if file == rel && !(feature && on_feature) {
                assert!(text.contains(line), "{rel} has {line:?}");
                text = text.replace(line, "");
            }
        }
        repo.write(rel, &text);
    }
}

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(fixture_project("conflict_merged").join(rel)).unwrap()
}

/// Which database the committed settings use.
enum Db<'a> {
    Sqlite,
    Postgres(&'a str),
    Mysql(&'a str),
}

fn settings_for(db: &Db<'_>) -> String {
    let base = fixture("config/settings.py");
    let databases = match db {
        Db::Sqlite => return base,
        Db::Postgres(name) => format!(
            "DATABASES = {{\n    \"default\": {{\n        \"ENGINE\": \"django.db.backends.postgresql\",\n        \
             \"NAME\": \"{name}\",\n        \"USER\": \"postgres\",\n        \"HOST\": \"127.0.0.1\",\n        \
             \"PORT\": \"5432\",\n    }}\n}}\n"
        ),
        Db::Mysql(name) => format!(
            "DATABASES = {{\n    \"default\": {{\n        \"ENGINE\": \"django.db.backends.mysql\",\n        \
             \"NAME\": \"{name}\",\n        \"USER\": \"root\",\n        \"PASSWORD\": \"\",\n        \
             \"HOST\": \"127.0.0.1\",\n        \"PORT\": \"3306\",\n    }}\n}}\n"
        ),
    };
    let start = base
        .find("DATABASES = {")
        .expect("DATABASES in the fixture");
    let end = start + base[start..].find("\n}\n").expect("end of DATABASES") + 3;
    let prelude = match db {
        Db::Mysql(_) => "import pymysql\n\npymysql.install_as_MySQLdb()\n\n",
        _ => "",
    };
    format!("{prelude}{}{databases}{}", &base[..start], &base[end..])
}

/// A repository with the hooks installed and `main` committed.
fn project(db: &Db<'_>, snapshots: bool) -> GitRepo {
    project_with(&settings_for(db), "", snapshots)
}

/// [`project`] with these settings and more lines in `.gitignore`.
fn project_with(settings: &str, more_ignored: &str, snapshots: bool) -> GitRepo {
    let repo = GitRepo::new();
    repo.install();
    copy_tree(&repo, &fixture_project("conflict_merged"), "");
    write_models(&repo, false);
    repo.write("config/settings.py", settings);
    repo.write(
        ".gitignore",
        &format!("db.sqlite3\n__pycache__/\n{more_ignored}"),
    );
    if snapshots {
        repo.write(
            "pyproject.toml",
            "[tool.migguard]\nsnapshots = true\npython = \"python3\"\n",
        );
    }
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "main"]);
    repo
}

/// `feature`: the two Django-made migrations, committed (left checked out).
fn add_feature(repo: &GitRepo) {
    checkout(repo, &["-b", "feature"]);
    for rel in FEATURE_FILES {
        repo.write(rel, &fixture(rel));
    }
    write_models(repo, true);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "feature"]);
}

/// `git checkout -b feature` one commit behind main, so that entering it
/// moves HEAD (the hook skips checkouts that do not, such as a plain
/// `checkout -b`); its output.
fn branch_off(repo: &GitRepo) -> Output {
    repo.commit_file("README.md", "shop\n", "docs");
    checkout(repo, &["-b", "feature", "HEAD~1"])
}

/// `git checkout ARGS` (the installed post-checkout hook fires); its output.
fn checkout(repo: &GitRepo, args: &[&str]) -> Output {
    let mut all = vec!["checkout", "-q"];
    all.extend_from_slice(args);
    let out = repo.git(&all);
    eprintln!(
        "git checkout {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn manage_cmd(repo: &GitRepo, args: &[&str]) -> Command {
    let mut cmd = repo.command(python());
    cmd.arg("manage.py")
        .args(args)
        .env_remove("DATABASE_URL")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    cmd
}

/// `python3 manage.py ARGS`, which must succeed; its standard output.
fn manage(repo: &GitRepo, args: &[&str]) -> String {
    let out = manage_cmd(repo, args).output().expect("run python3");
    assert!(
        out.status.success(),
        "manage.py {args:?}: {}",
        describe(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run SQL through Django's connection (works on every backend).
fn sql(repo: &GitRepo, statements: &[&str]) {
    let code = format!(
        "from django.db import connection\nwith connection.cursor() as c:\n{}",
        statements
            .iter()
            .map(|s| format!("    c.execute({s:?})\n"))
            .collect::<String>()
    );
    manage(repo, &["shell", "-v", "0", "-c", &code]);
}

/// Every row of every table, sorted, through Django's connection.
fn dump(repo: &GitRepo) -> String {
    let code = "from django.db import connection\n\
                with connection.cursor() as c:\n\
                \x20   for t in sorted(connection.introspection.table_names()):\n\
                \x20       c.execute('SELECT * FROM ' + connection.ops.quote_name(t))\n\
                \x20       cols = [d[0] for d in c.description]\n\
                \x20       print(t, cols)\n\
                \x20       for r in sorted(repr(x) for x in c.fetchall()):\n\
                \x20           print('  ', r)\n";
    manage(repo, &["shell", "-v", "0", "-c", code])
}

/// `django_migrations` as the database has it.
fn db_rows(repo: &GitRepo) -> BTreeSet<Key> {
    let code = "from django.db import connection\n\
                with connection.cursor() as c:\n\
                \x20   c.execute('SELECT app, name FROM django_migrations')\n\
                \x20   for a, n in c.fetchall():\n\
                \x20       print('ROW', a, n)\n";
    manage(repo, &["shell", "-v", "0", "-c", code])
        .lines()
        .filter_map(|l| {
            let (a, n) = l.strip_prefix("ROW ")?.split_once(' ')?;
            Some((a.to_owned(), n.to_owned()))
        })
        .collect()
}

fn project_rows(repo: &GitRepo) -> BTreeSet<Key> {
    db_rows(repo)
        .into_iter()
        .filter(|(a, _)| PROJECT_APPS.contains(&a.as_str()))
        .collect()
}

/// Django's own view: the `[X]` lines of `showmigrations --list`.
fn showmigrations(repo: &GitRepo) -> BTreeSet<Key> {
    let mut app = String::new();
    let mut out = BTreeSet::new();
    for line in manage(repo, &["showmigrations", "--list"]).lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            app = line.trim().to_owned();
        } else if let Some(rest) = line.trim_start().strip_prefix("[X] ") {
            out.insert((
                app.clone(),
                rest.split_whitespace().next().unwrap().to_owned(),
            ));
        }
    }
    out
}

fn keys(list: &[(&str, &str)]) -> BTreeSet<Key> {
    list.iter()
        .map(|(a, n)| ((*a).to_owned(), (*n).to_owned()))
        .collect()
}

fn main_keys() -> BTreeSet<Key> {
    keys(&MAIN)
}

fn feature_keys() -> BTreeSet<Key> {
    let mut all = main_keys();
    all.extend(keys(&[
        ("orders", "0003_order_shipping_country"),
        ("inventory", "0002_a_item_sku"),
    ]));
    all
}

/// The database is exactly what the checked-out branch expects: Django
/// shows every row of `django_migrations` as `[X]` (no row for a file it
/// does not have), `migrate --check` has nothing to do, and the project's
/// rows are `expected`.
fn assert_synced(repo: &GitRepo, expected: &BTreeSet<Key>) {
    assert_eq!(&project_rows(repo), expected);
    assert_eq!(
        db_rows(repo),
        showmigrations(repo),
        "django_migrations has rows Django does not know"
    );
    let check = manage_cmd(repo, &["migrate", "--check"]).output().unwrap();
    assert!(
        check.status.success(),
        "migrate --check: {}",
        describe(&check)
    );
}

fn sync(repo: &GitRepo, args: &[&str], code: i32) -> Output {
    let mut all: Vec<&std::ffi::OsStr> = vec!["sync".as_ref()];
    all.extend(args.iter().map(std::ffi::OsStr::new));
    let out = repo.migguard(&all, None);
    eprintln!("migguard sync {args:?}: {}", describe(&out));
    assert_eq!(out.status.code(), Some(code), "{}", describe(&out));
    out
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// No temporary worktree is left registered.
fn assert_no_worktrees(repo: &GitRepo) {
    let list = repo.git_stdout(&["worktree", "list", "--porcelain"]);
    assert_eq!(
        list.lines().filter(|l| l.starts_with("worktree ")).count(),
        1,
        "{list}"
    );
}

/// main migrated, feature migrated on top, back on main (hook fired).
fn feature_applied_then_main(db: &Db<'_>) -> GitRepo {
    let repo = project(db, false);
    apply_feature_then_main(&repo);
    repo
}

fn apply_feature_then_main(repo: &GitRepo) {
    manage(repo, &["migrate", "--noinput"]);
    sql(
        repo,
        &["INSERT INTO orders_order (number, shipping_address) VALUES ('A-1', 'Elm St')"],
    );
    add_feature(repo);
    manage(repo, &["migrate", "--noinput"]);
    assert_eq!(project_rows(repo), feature_keys());
    checkout(repo, &["main"]);
}

fn round_trip(db: &Db<'_>) {
    let repo = feature_applied_then_main(db);

    // --plan: every step, nothing changed.
    let before = db_rows(&repo);
    let dump_before = dump(&repo);
    let out = sync(&repo, &["--plan"], 0);
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    for expected in [
        "orders.0003_order_shipping_country",
        "inventory.0002_a_item_sku",
        "git worktree add --detach",
        "manage.py migrate inventory 0001_initial --noinput",
        "manage.py migrate orders 0002_add_shipping_address_to_order --noinput",
        "git worktree remove --force",
        "Nothing was changed",
    ] {
        assert!(plan.contains(expected), "{expected:?} in\n{plan}");
    }
    assert_eq!(db_rows(&repo), before, "--plan changed django_migrations");
    assert_eq!(dump(&repo), dump_before, "--plan changed the data");
    assert_no_worktrees(&repo);

    // sync on main: the feature's migrations are unapplied with their files.
    let out = sync(&repo, &[], 0);
    let said = text(&out);
    assert!(
        said.contains("Unapplying"),
        "Django's output is shown: {said}"
    );
    assert!(said.contains("Done: the database matches"), "{said}");
    assert_synced(&repo, &main_keys());
    assert_no_worktrees(&repo);
    assert!(dump(&repo).contains("Elm St"), "the rows of main stay");

    // And back: feature's state.
    checkout(&repo, &["feature"]);
    sync(&repo, &[], 0);
    assert_synced(&repo, &feature_keys());

    // Nothing to do a second time.
    let out = sync(&repo, &[], 0);
    assert!(text(&out).contains("nothing to do"), "{}", text(&out));
    assert_no_worktrees(&repo);
}

#[test]
fn sync_sqlite_round_trip_and_plan() {
    round_trip(&Db::Sqlite);
}

#[test]
fn sync_postgres_round_trip_and_plan() {
    let db = PgDb::create();
    round_trip(&Db::Postgres(&db.name));
    // The backups sync took are template copies on the server.
    assert!(db.snapshot_count() >= 1);
}

/// `--database` with a password: the password is never printed, and the
/// printed way back is a command that works when pasted (with the URL in
/// `$DATABASE_URL`), not one holding a `***` URL.
#[test]
fn the_way_back_is_pasteable_when_the_url_has_a_password() {
    let db = PgDb::create();
    let repo = feature_applied_then_main(&Db::Postgres(&db.name));
    let feature_rows = db_rows(&repo);
    // The server trusts local logins: any password is accepted.
    let url = format!("postgres://postgres:pa55-w0rd@127.0.0.1:5432/{}", db.name);
    let out = sync(&repo, &["--database", &url], 0);
    let said = text(&out);
    assert!(!said.contains("pa55-w0rd"), "{said}");
    assert_synced(&repo, &main_keys());
    let line = said
        .lines()
        .find(|l| l.starts_with("The backup is snapshot"))
        .unwrap_or_else(|| panic!("the way back in {said}"));
    let command = line
        .split('`')
        .nth(3)
        .unwrap_or_else(|| panic!("a command in {line}"));
    assert!(!command.contains("***"), "{line}");
    assert!(command.contains("--database \"$DATABASE_URL\""), "{line}");
    assert!(line.contains("with DATABASE_URL set to the URL"), "{line}");

    // Pasted into a shell with the URL in DATABASE_URL, it puts the
    // feature's database back.
    let bin = GitRepo::bin_dir();
    let mut shell = repo.command("sh");
    shell.args(["-c", command]).env("DATABASE_URL", &url).env(
        "PATH",
        format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
    );
    let out = shell.output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(db_rows(&repo), feature_rows);
}

/// The exit codes `migguard status` gives too: 2 when the database cannot
/// be read (nothing was judged), 0 when it matches.
#[test]
fn sync_exit_codes_agree_with_status() {
    let repo = feature_applied_then_main(&Db::Sqlite);
    let down = "postgres://postgres:pw@127.0.0.1:1/app";
    let out = sync(&repo, &["--database", down], 2);
    assert!(!text(&out).contains(":pw@"), "{}", text(&out));
    let status = repo.migguard(
        &["status".as_ref(), "--database".as_ref(), down.as_ref()],
        None,
    );
    assert_eq!(status.status.code(), Some(2), "{}", describe(&status));

    // A password that is also a word of the message (`postgres`) hides
    // the password only, not every `postgres`.
    let out = sync(
        &repo,
        &["--database", "postgres://postgres:postgres@127.0.0.1:1/app"],
        2,
    );
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        said.contains("postgres://postgres:***@127.0.0.1:1/app"),
        "{said}"
    );

    sync(&repo, &[], 0);
    let status = repo.migguard(&["status".as_ref()], None);
    assert_eq!(status.status.code(), Some(0), "{}", describe(&status));
}

/// MariaDB: sync cannot back it up, so it refuses without --no-backup
/// and every hint says so (no "backs it up first"); `--plan` shows the same
/// steps as for SQLite and PostgreSQL, less the backup.
#[test]
fn sync_mariadb_needs_no_backup_flag() {
    let db = MyDb::create();
    let repo = feature_applied_then_main(&Db::Mysql(&db.name));
    let before = db_rows(&repo);
    let dump_before = dump(&repo);

    let out = sync(&repo, &["--plan"], 0);
    let plan = String::from_utf8_lossy(&out.stdout).into_owned();
    for expected in [
        "orders.0003_order_shipping_country",
        "inventory.0002_a_item_sku",
        "git worktree add --detach",
        "manage.py migrate inventory 0001_initial --noinput",
        "manage.py migrate orders 0002_add_shipping_address_to_order --noinput",
        "git worktree remove --force",
        "manage.py migrate --noinput",
        "Nothing was changed",
        "no backup",
        "mysqldump",
        "migguard sync --no-backup",
    ] {
        assert!(plan.contains(expected), "{expected:?} in\n{plan}");
    }
    assert!(!plan.contains("snapshot save"), "{plan}");
    assert_eq!(db_rows(&repo), before, "--plan changed django_migrations");
    assert_eq!(dump(&repo), dump_before, "--plan changed the data");
    assert_no_worktrees(&repo);

    // The hook, status and plan point at sync as it is for MariaDB.
    checkout(&repo, &["feature"]);
    let hook = String::from_utf8_lossy(&checkout(&repo, &["main"]).stderr).into_owned();
    let status = repo.migguard(&["status".as_ref()], None);
    let shown = repo.migguard(&["plan".as_ref()], None);
    for said in [
        hook,
        String::from_utf8_lossy(&status.stdout).into_owned(),
        String::from_utf8_lossy(&shown.stdout).into_owned(),
    ] {
        assert!(said.contains("migguard sync --no-backup"), "{said}");
        assert!(said.contains("mysqldump"), "{said}");
        assert!(!said.contains("backs the database up"), "{said}");
        assert!(!said.contains("backs it up"), "{said}");
    }

    let out = sync(&repo, &[], 1);
    let said = text(&out);
    assert!(said.contains("no automatic backup"), "{said}");
    assert!(said.contains("mysqldump"), "{said}");
    assert_eq!(db_rows(&repo), before, "nothing ran");
    sync(&repo, &["--no-backup"], 0);
    assert_synced(&repo, &main_keys());
}

#[test]
fn an_irreversible_migration_stops_sync_before_anything_runs() {
    let repo = project(&Db::Sqlite, false);
    manage(&repo, &["migrate", "--noinput"]);
    checkout(&repo, &["-b", "backfill"]);
    repo.write(
        "orders/migrations/0003_backfill.py",
        "from django.db import migrations\n\n\n\
         def forwards(apps, schema_editor):\n    pass\n\n\n\
         class Migration(migrations.Migration):\n\n    \
         dependencies = [\n        (\"orders\", \"0002_add_shipping_address_to_order\"),\n    ]\n\n    \
         operations = [\n        migrations.RunPython(forwards),\n    ]\n",
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "backfill"]);
    manage(&repo, &["migrate", "--noinput"]);
    checkout(&repo, &["main"]);
    let db_file = repo.root.join("db.sqlite3");
    let bytes = std::fs::read(&db_file).unwrap();

    let out = sync(&repo, &[], 1);
    let said = text(&out);
    assert!(said.contains("cannot be reversed"), "{said}");
    assert!(said.contains("orders.0003_backfill"), "{said}");
    assert!(said.contains("RunPython(forwards)"), "{said}");
    assert!(said.contains("snapshot"), "the way out is named: {said}");
    assert_eq!(
        std::fs::read(&db_file).unwrap(),
        bytes,
        "the database is untouched"
    );
    assert_no_worktrees(&repo);
    let list = repo.migguard(&["snapshot".as_ref(), "list".as_ref()], Some(0));
    assert!(
        String::from_utf8_lossy(&list.stdout).contains("No snapshots"),
        "no backup either: {}",
        describe(&list)
    );
    // --plan says the same, and also changes nothing.
    let out = sync(&repo, &["--plan"], 1);
    assert!(text(&out).contains("cannot be reversed"));
    assert_eq!(std::fs::read(&db_file).unwrap(), bytes);
}

#[test]
fn a_failing_step_stops_keeps_the_backup_and_says_how_to_restore() {
    let repo = project(&Db::Sqlite, false);
    manage(&repo, &["migrate", "--noinput"]);
    sql(
        &repo,
        &["INSERT INTO inventory_item (name) VALUES ('bolt')"],
    );
    checkout(&repo, &["-b", "broken"]);
    repo.write(
        "orders/migrations/0003_broken.py",
        "from django.db import migrations\n\n\n\
         class Migration(migrations.Migration):\n\n    \
         dependencies = [\n        (\"orders\", \"0002_add_shipping_address_to_order\"),\n    ]\n\n    \
         operations = [\n        migrations.RunSQL(\"CREATE TABLE extra_t (id integer)\", \
         reverse_sql=\"DROP TABLE no_such_table\"),\n    ]\n",
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "broken"]);
    manage(&repo, &["migrate", "--noinput"]);
    checkout(&repo, &["main"]);
    let before = dump(&repo);

    let out = sync(&repo, &[], 1);
    let said = text(&out);
    assert!(said.contains("failed"), "{said}");
    assert!(
        said.contains("no_such_table"),
        "Django's error is shown: {said}"
    );
    assert_no_worktrees(&repo);
    let restore = said
        .lines()
        .find_map(|l| l.split("run: ").nth(1))
        .unwrap_or_else(|| panic!("a restore command in {said}"))
        .trim()
        .to_owned();
    assert!(
        restore.starts_with("migguard snapshot restore sync-backup-"),
        "{restore}"
    );
    let words: Vec<&std::ffi::OsStr> = restore
        .split_whitespace()
        .skip(1)
        .map(std::ffi::OsStr::new)
        .collect();
    repo.migguard(&words, Some(0));
    assert_eq!(dump(&repo), before, "the backup puts everything back");
}

#[test]
fn sync_to_a_revision_migrates_in_a_worktree_of_it() {
    let repo = project(&Db::Sqlite, false);
    manage(&repo, &["migrate", "--noinput"]);
    add_feature(&repo);
    checkout(&repo, &["main"]);
    let out = sync(&repo, &["--to", "feature"], 0);
    assert!(
        text(&out).contains("git worktree add --detach"),
        "{}",
        text(&out)
    );
    assert_eq!(project_rows(&repo), feature_keys());
    assert_no_worktrees(&repo);
    sync(&repo, &[], 0);
    assert_synced(&repo, &main_keys());
}

#[test]
fn a_deleted_branch_is_unapplied_from_the_store() {
    let repo = feature_applied_then_main(&Db::Sqlite);
    repo.git(&["branch", "-q", "-D", "feature"]);
    // Forget the commits for good: only migguard's store can have the files.
    repo.git(&[
        "reflog",
        "expire",
        "--expire=now",
        "--expire-unreachable=now",
        "--all",
    ]);
    repo.git(&["gc", "-q", "--prune=now"]);
    let index = repo.root.join(".git/migguard/applied/index.json");
    let recorded = std::fs::read_to_string(&index).unwrap_or_default();
    let stored = recorded.contains("orders.0003_order_shipping_country")
        && recorded.contains("inventory.0002_a_item_sku");
    if stored {
        let out = sync(&repo, &[], 0);
        assert!(text(&out).contains("migguard's store"), "{}", text(&out));
        assert_synced(&repo, &main_keys());
        assert_no_worktrees(&repo);
    } else {
        eprintln!(
            "the post-checkout hook recorded nothing in {}",
            index.display()
        );
        let before = db_rows(&repo);
        let out = sync(&repo, &[], 1);
        let said = text(&out);
        assert!(said.contains("cannot unapply"), "{said}");
        assert!(said.contains("store"), "{said}");
        assert_eq!(db_rows(&repo), before);
    }
}

/// git's blob id of `text`.
fn git_blob_id(repo: &GitRepo, text: &str) -> String {
    let path = repo.scratch("blob-input");
    std::fs::write(&path, text).unwrap();
    repo.git_stdout(&["hash-object", path.to_str().unwrap()])
}

#[test]
fn a_deleted_branch_is_unapplied_from_a_hand_filled_store() {
    // The store as the hook fills it, written here through git itself, so
    // this path is tested whatever the hook records.
    let repo = feature_applied_then_main(&Db::Sqlite);
    let store = repo.root.join(".git/migguard/applied");
    let mut index = serde_json::Map::new();
    for rel in FEATURE_FILES {
        let (app, rest) = rel.split_once("/migrations/").unwrap();
        let name = rest.trim_end_matches(".py");
        let blob = repo.git_stdout(&["rev-parse", &format!("feature:{rel}")]);
        let object = store.join("objects").join(&blob[..2]).join(&blob[2..]);
        std::fs::create_dir_all(object.parent().unwrap()).unwrap();
        std::fs::write(&object, fixture(rel)).unwrap();
        let key = format!("{app}.{name}");
        if !index.contains_key(&key) {
            index.insert(
                key,
                serde_json::json!({"blob": blob, "path": rel, "seen": "2025-01-01T00:00:00Z"}),
            );
        }
    }
    let existing = std::fs::read_to_string(store.join("index.json")).unwrap_or_default();
    if let Ok(serde_json::Value::Object(old)) = serde_json::from_str(&existing) {
        for (k, v) in old {
            index.entry(k).or_insert(v);
        }
    }
    std::fs::write(
        store.join("index.json"),
        serde_json::to_string_pretty(&serde_json::Value::Object(index)).unwrap(),
    )
    .unwrap();
    repo.git(&["branch", "-q", "-D", "feature"]);
    repo.git(&[
        "reflog",
        "expire",
        "--expire=now",
        "--expire-unreachable=now",
        "--all",
    ]);
    repo.git(&["gc", "-q", "--prune=now"]);

    // The plan shows where the files come from with a command that works:
    // git no longer has the objects, migguard's store does.
    let plan = sync(&repo, &["--plan"], 0);
    let plan = text(&plan);
    assert!(!plan.contains("git cat-file"), "{plan}");
    for rel in FEATURE_FILES {
        let blob = git_blob_id(&repo, &fixture(rel));
        let gone = repo.git_status(&["cat-file", "-e", &blob]);
        assert!(!gone.status.success(), "git pruned {rel}");
        let copy = plan
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("$ cp ") && l.contains(rel))
            .unwrap_or_else(|| panic!("a copy of {rel} in {plan}"));
        let command = copy
            .trim_start_matches("$ ")
            .split("   (")
            .next()
            .unwrap()
            .to_owned();
        let scratch = repo.scratch("copied");
        std::fs::create_dir_all(&scratch).unwrap();
        let dest = scratch.join("file.py");
        let words: Vec<&str> = command.split(' ').collect();
        let redirected = format!("{} {} {}", words[0], words[1], dest.display());
        let out = repo
            .command("sh")
            .args(["-c", &redirected])
            .output()
            .unwrap();
        assert!(out.status.success(), "{redirected}: {}", describe(&out));
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), fixture(rel));
    }
    let out = sync(&repo, &[], 0);
    assert!(text(&out).contains("migguard's store"), "{}", text(&out));
    assert_synced(&repo, &main_keys());
    assert_no_worktrees(&repo);
}

/// main → feature → main with snapshots on: every row as it was.
fn snapshot_round_trip(db: &Db<'_>) {
    let repo = project(db, true);
    manage(&repo, &["migrate", "--noinput"]);
    sql(
        &repo,
        &[
            "INSERT INTO orders_order (number, shipping_address) VALUES ('A-1', 'Elm St')",
            "INSERT INTO orders_order (number, shipping_address) VALUES ('A-2', '')",
            "INSERT INTO inventory_item (name) VALUES ('bolt')",
        ],
    );
    let on_main = dump(&repo);
    branch_off(&repo);
    for rel in FEATURE_FILES {
        repo.write(rel, &fixture(rel));
    }
    write_models(&repo, true);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "feature"]);
    manage(&repo, &["migrate", "--noinput"]);
    sql(
        &repo,
        &[
            "UPDATE orders_order SET shipping_country = 'FR'",
            "DELETE FROM inventory_item",
            "INSERT INTO inventory_item (name, sku) VALUES ('nut', 'N-1')",
        ],
    );
    let on_feature = dump(&repo);
    assert_ne!(on_main, on_feature);

    let out = checkout(&repo, &["main"]);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(said.contains("restored the database of `main`"), "{said}");
    assert_eq!(dump(&repo), on_main, "main's rows, exactly");
    assert_synced(&repo, &main_keys());

    // And feature's state comes back with feature.
    checkout(&repo, &["feature"]);
    assert_eq!(dump(&repo), on_feature, "feature's rows, exactly");

    let list = repo.migguard(&["snapshot".as_ref(), "list".as_ref()], Some(0));
    let listed = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(
        listed.contains("main") && listed.contains("feature"),
        "{listed}"
    );
}

/// `git checkout -b` does not move HEAD, but it leaves a branch: the state
/// of the branch left is saved then, so that coming back restores it.
#[test]
fn a_new_branch_at_the_same_commit_saves_the_branch_left() {
    let repo = project(&Db::Sqlite, true);
    manage(&repo, &["migrate", "--noinput"]);
    sql(
        &repo,
        &["INSERT INTO inventory_item (name) VALUES ('bolt')"],
    );
    let on_main = dump(&repo);
    let out = checkout(&repo, &["-b", "feature"]);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        said.contains("saved the database as snapshot `main`"),
        "{said}"
    );

    sql(&repo, &["DELETE FROM inventory_item"]);
    assert_ne!(dump(&repo), on_main);
    let out = checkout(&repo, &["main"]);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(said.contains("restored the database of `main`"), "{said}");
    assert_eq!(dump(&repo), on_main, "main's rows, exactly");
}

#[test]
fn snapshots_sqlite_round_trip_keeps_every_row() {
    snapshot_round_trip(&Db::Sqlite);
}

#[test]
fn snapshots_postgres_round_trip_keeps_every_row() {
    let db = PgDb::create();
    snapshot_round_trip(&Db::Postgres(&db.name));
}

#[test]
fn snapshots_postgres_in_use_is_one_line_and_changes_nothing() {
    let db = PgDb::create();
    let repo = project(&Db::Postgres(&db.name), true);
    manage(&repo, &["migrate", "--noinput"]);
    sql(
        &repo,
        &["INSERT INTO inventory_item (name) VALUES ('bolt')"],
    );
    let before = dump(&repo);
    // Another session on the database: PostgreSQL refuses to copy it.
    let mut holder = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", &db.name, "-q"])
        .env("PGAPPNAME", "mg_test_holder")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("psql");
    {
        use std::io::Write;
        let stdin = holder.stdin.as_mut().unwrap();
        writeln!(stdin, "SELECT 1;").unwrap();
        stdin.flush().unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let started = std::time::Instant::now();
    let out = branch_off(&repo);
    let took = started.elapsed();
    drop(holder.stdin.take());
    let _ = holder.wait();
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines: Vec<&str> = said.lines().filter(|l| l.contains("snapshots:")).collect();
    assert_eq!(lines.len(), 1, "{said}");
    assert!(
        lines[0].contains("in use") && lines[0].contains("mg_test_holder"),
        "{said}"
    );
    assert!(
        took < std::time::Duration::from_secs(3),
        "the checkout is not held up by the other session: {took:?}"
    );
    assert_eq!(dump(&repo), before);
    assert_eq!(db.snapshot_count(), 0);
}

#[test]
fn snapshots_mariadb_are_unsupported_in_one_line() {
    let db = MyDb::create();
    let repo = project(&Db::Mysql(&db.name), true);
    manage(&repo, &["migrate", "--noinput"]);
    let out = branch_off(&repo);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines: Vec<&str> = said.lines().filter(|l| l.contains("snapshots:")).collect();
    assert_eq!(lines.len(), 1, "{said}");
    assert!(lines[0].contains("not supported"), "{said}");
}

#[test]
fn snapshot_commands_save_list_restore_drop() {
    let repo = project(&Db::Sqlite, false);
    manage(&repo, &["migrate", "--noinput"]);
    sql(
        &repo,
        &["INSERT INTO inventory_item (name) VALUES ('bolt')"],
    );
    let before = dump(&repo);
    let snap = |args: &[&str], code: i32| {
        let mut all: Vec<&std::ffi::OsStr> = vec!["snapshot".as_ref()];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        let out = repo.migguard(&all, None);
        assert_eq!(out.status.code(), Some(code), "{}", describe(&out));
        text(&out)
    };
    assert!(snap(&["save"], 0).contains("as snapshot `main`"));
    sql(&repo, &["DELETE FROM inventory_item"]);
    assert!(snap(&["list"], 0).contains("* main"));
    let said = snap(&["restore", "main"], 0);
    assert!(said.contains("before-restore-"), "{said}");
    assert_eq!(dump(&repo), before);
    assert!(snap(&["restore", "nope"], 1).contains("no snapshot `nope`"));
    // Each restore keeps the state it replaced; prune drops all of them
    // but the newest, and none of the branches' snapshots.
    let second = snap(&["restore", "main"], 0);
    let befores = |listing: &str| -> Vec<String> {
        listing
            .lines()
            .filter_map(|l| {
                l.split_whitespace()
                    .find(|w| w.starts_with("before-restore-"))
            })
            .map(str::to_owned)
            .collect()
    };
    let listed = befores(&snap(&["list"], 0));
    assert_eq!(listed.len(), 2, "{listed:?}");
    let newest = listed
        .iter()
        .find(|name| second.contains(&format!("`{name}`")))
        .expect("the second restore names its snapshot")
        .clone();
    // A snapshot saved by hand under a name that only starts the same way
    // is the user's: prune leaves it, whatever it sorts like.
    snap(&["save", "before-restore-keep-this"], 0);
    let pruned = snap(&["prune"], 0);
    assert!(!pruned.contains("keep-this"), "{pruned}");
    assert!(
        pruned.contains(&format!("Kept snapshot `{newest}`")),
        "{pruned}"
    );
    assert_eq!(pruned.matches("Dropped snapshot").count(), 1, "{pruned}");
    let left = snap(&["list"], 0);
    let mut expected = vec![newest.clone(), "before-restore-keep-this".to_owned()];
    expected.sort();
    let mut listed = befores(&left);
    listed.sort();
    assert_eq!(listed, expected, "{left}");
    assert!(left.contains("main"), "the branch's snapshot stays: {left}");
    assert!(snap(&["prune"], 0).contains("Nothing to prune"));
    assert!(snap(&["prune", "--keep", "0"], 0).contains(&format!("Dropped snapshot `{newest}`")));
    assert_eq!(
        befores(&snap(&["list"], 0)),
        vec!["before-restore-keep-this".to_owned()]
    );
    snap(&["drop", "main"], 0);
    assert!(snap(&["drop", "main"], 1).contains("no snapshot"));
}

/// A virtualenv interpreter named relatively, as projects configure it
/// (`python = ".venv/bin/python"`, the `.venv` ignored by git): found from
/// the temporary worktree too.
#[cfg(unix)]
#[test]
fn a_relative_interpreter_is_found_from_the_worktree() {
    let repo = feature_applied_then_main(&Db::Sqlite);
    let real = String::from_utf8(
        std::process::Command::new(python())
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::fs::create_dir_all(repo.root.join(".venv/bin")).unwrap();
    std::os::unix::fs::symlink(real.trim(), repo.root.join(".venv/bin/python")).unwrap();
    repo.write(".gitignore", "db.sqlite3\n__pycache__/\n.venv/\n");
    repo.write(
        "pyproject.toml",
        "[tool.migguard]\npython = \".venv/bin/python\"\n",
    );
    sync(&repo, &[], 0);
    assert_synced(&repo, &main_keys());
    assert_no_worktrees(&repo);
}

/// Settings that read git-ignored files (a `.env` at the top and a
/// `local_settings.py` beside `settings.py`), which a worktree of a commit
/// does not have: sync links them into its temporary worktree.
#[test]
fn settings_that_read_ignored_files_work_in_the_worktree() {
    let settings = format!(
        "{}\n# Machine-local files, ignored by git.\n\
         SECRET_KEY = (BASE_DIR / \".env\").read_text().strip().split(\"=\", 1)[1]\n\
         from .local_settings import *  # noqa: E402,F401,F403\n",
        settings_for(&Db::Sqlite)
    );
    let repo = project_with(&settings, ".env\nconfig/local_settings.py\n", false);
    repo.write(".env", "SECRET_KEY=from-the-dot-env\n");
    repo.write("config/local_settings.py", "LOCAL = True\n");
    assert!(
        repo.git_stdout(&["status", "--porcelain"]).is_empty(),
        "the two files are ignored"
    );
    apply_feature_then_main(&repo);

    let out = sync(&repo, &["--plan"], 0);
    let plan = text(&out);
    for file in [".env", "config/local_settings.py"] {
        assert!(
            plan.contains(&format!(
                "ln -s {}",
                repo.root.canonicalize().unwrap().join(file).display()
            )),
            "{file} is linked: {plan}"
        );
    }
    assert!(!plan.contains("db.sqlite3-"), "{plan}");

    sync(&repo, &[], 0);
    assert_synced(&repo, &main_keys());
    assert_no_worktrees(&repo);
    assert_eq!(
        std::fs::read_to_string(repo.root.join(".env")).unwrap(),
        "SECRET_KEY=from-the-dot-env\n",
        "the real files stay"
    );
    assert!(repo.root.join("config/local_settings.py").is_file());
}

/// `--database` or `[tool.migguard] database` naming another database than
/// the one the settings use (which do not read DATABASE_URL): sync would
/// back up and read one and migrate the other, so it refuses and touches
/// neither.
#[test]
fn a_database_other_than_the_settings_one_is_refused() {
    let repo = feature_applied_then_main(&Db::Sqlite);
    let own = repo.root.join("db.sqlite3");
    let other_dir = tempfile::tempdir().unwrap();
    let other = other_dir.path().join("other.db");
    std::fs::copy(&own, &other).unwrap();
    let own_bytes = std::fs::read(&own).unwrap();
    let other_bytes = std::fs::read(&other).unwrap();
    let url = format!("sqlite:///{}", other.display());
    let unchanged = |what: &str| {
        assert_eq!(
            std::fs::read(&own).unwrap(),
            own_bytes,
            "{what}: db.sqlite3"
        );
        assert_eq!(
            std::fs::read(&other).unwrap(),
            other_bytes,
            "{what}: other.db"
        );
        assert_no_worktrees(&repo);
    };

    for args in [
        vec!["--database", url.as_str()],
        vec!["--database", url.as_str(), "--plan"],
    ] {
        let out = sync(&repo, &args, 1);
        let said = text(&out);
        assert!(said.contains("would change"), "{said}");
        assert!(said.contains(&own.display().to_string()), "{said}");
        assert!(said.contains("Nothing was changed"), "{said}");
        assert!(said.contains("do not read DATABASE_URL for it"), "{said}");
        assert!(
            !said.contains("  "),
            "one sentence, no runs of spaces: {said}"
        );
        assert!(!said.contains("Plan:"), "{said}");
        unchanged(&format!("{args:?}"));
    }

    repo.write(
        "pyproject.toml",
        &format!("[tool.migguard]\ndatabase = \"{url}\"\n"),
    );
    let out = sync(&repo, &[], 1);
    let said = text(&out);
    assert!(said.contains("`[tool.migguard] database` names"), "{said}");
    unchanged("[tool.migguard] database");
    let snapshots = repo.migguard(&["snapshot".as_ref(), "list".as_ref()], Some(0));
    assert!(
        String::from_utf8_lossy(&snapshots.stdout).contains("No snapshots"),
        "no backup was taken: {}",
        describe(&snapshots)
    );

    // The settings' own database, named explicitly, is synced as before.
    std::fs::remove_file(repo.root.join("pyproject.toml")).unwrap();
    let own_url = format!("sqlite:///{}", own.display());
    sync(&repo, &["--database", &own_url], 0);
    assert_synced(&repo, &main_keys());
}
