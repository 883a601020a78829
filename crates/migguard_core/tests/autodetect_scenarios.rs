//! The static autodetector (`missing-migration`) against Django's own, on
//! the scenario suite `tests/fixtures/django/scenarios/`: a clean `base/`
//! project and `cases/<name>/` overlays, each one edit of the models.
//! Django's verdict is obtained live from `label_scenario.py` (with
//! `python3`, or `MIGGUARD_TEST_PYTHON`), cases in parallel.
//!
//! Agreement means the same apps need a migration, with the same
//! operations (`type`, model, name; order aside, though the exact order is
//! counted too). The test requires 97% agreement and no false alarm on a
//! case Django sees no change in.
//!
//! `MIGGUARD_SCENARIO=<part of a name>` runs some cases only,
//! `MIGGUARD_SCENARIO_CASES=<dir>` another directory of overlays, and
//! `MIGGUARD_SCENARIO_NOTES=1` prints migguard's messages for each case.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use migguard_core::config::Settings;
use migguard_core::project::{analyze, AnalyzeOptions};
use migguard_core::rules::{self, Rule};
use migguard_core::source::MemorySource;
use serde_json::Value as J;

/// `(type, model, name)` of one operation.
type Op = (String, String, String);
/// Operations per app needing a migration.
type Verdict = BTreeMap<String, Vec<Op>>;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scenarios() -> PathBuf {
    repo_root().join("tests/fixtures/django/scenarios")
}

fn python() -> String {
    std::env::var("MIGGUARD_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Every file below `dir`, project-relative, skipping caches.
fn files_below(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "__pycache__" {
                    stack.push(path);
                }
                continue;
            }
            if name.ends_with(".pyc") || name == "db.sqlite3" {
                continue;
            }
            let rel = path
                .strip_prefix(dir)
                .unwrap()
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, std::fs::read(&path).unwrap()));
        }
    }
    out.sort();
    out
}

/// The base project with a case's overlay applied, in memory.
fn project_source(case: Option<&Path>) -> MemorySource {
    project_source_at(&scenarios().join("base"), case)
}

fn project_source_at(base: &Path, case: Option<&Path>) -> MemorySource {
    let mut source = MemorySource::new("scenario");
    for (path, bytes) in files_below(base) {
        source.insert(path, bytes);
    }
    if let Some(case) = case {
        for (path, bytes) in files_below(case) {
            if path == "case.json" || path == "expected.json" {
                continue;
            }
            source.insert(path, bytes);
        }
    }
    source
}

/// What migguard says: the operations of each `missing-migration`.
fn ours(source: &MemorySource) -> (Verdict, Vec<String>) {
    let project =
        analyze(source, &Settings::default(), &AnalyzeOptions::default()).expect("analysis runs");
    let diagnostics = rules::models::check(&project, source);
    let mut verdict = Verdict::new();
    let mut notes = Vec::new();
    for d in &diagnostics {
        match d.rule {
            Rule::MissingMigration => {
                let app = d.location.app.clone().unwrap_or_default();
                let ops = d.details["operations"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                for op in &ops {
                    let mut keys: Vec<&str> = op
                        .as_object()
                        .map(|o| o.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    keys.sort_unstable();
                    assert_eq!(
                        keys,
                        ["model_name", "name", "type"],
                        "details.operations keys are a contract"
                    );
                }
                let list: Vec<Op> = ops
                    .iter()
                    .map(|op| {
                        let s = |k: &str| op[k].as_str().unwrap_or_default().to_owned();
                        (s("type"), s("model_name"), s("name"))
                    })
                    .collect();
                verdict.insert(app, list);
            }
            Rule::UnresolvedModel => notes.push(d.message.clone()),
            _ => {}
        }
    }
    (verdict, notes)
}

/// Django's verdict, from the live labeller; `Err` when Django refused.
fn django(case: &Path) -> Result<Verdict, String> {
    django_at(&scenarios().join("base"), case)
}

fn django_at(base: &Path, case: &Path) -> Result<Verdict, String> {
    let script = repo_root().join("tests/fixtures/django/label_scenario.py");
    let output = Command::new(python())
        .arg(&script)
        .arg(base)
        .arg(case)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("DJANGO_SETTINGS_MODULE")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python()));
    assert!(
        output.status.success(),
        "label_scenario.py failed on {}: {}",
        case.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let value: J = serde_json::from_slice(&output.stdout).expect("the labeller prints JSON");
    if let Some(error) = value.get("error") {
        return Err(error.to_string());
    }
    let mut verdict = Verdict::new();
    for (app, ops) in value["apps"].as_object().cloned().unwrap_or_default() {
        let list: Vec<Op> = ops
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|op| {
                let s = |k: &str| op.get(k).and_then(J::as_str).map(str::to_owned);
                let name = s("name").or_else(|| s("new_name")).unwrap_or_default();
                let model = s("model_name").unwrap_or_else(|| name.clone());
                (s("type").unwrap_or_default(), model, name)
            })
            .collect();
        if !list.is_empty() {
            verdict.insert(app, list);
        }
    }
    Ok(verdict)
}

/// The verdict with each app's operations sorted: the comparison ignores order.
fn unordered(verdict: &Verdict) -> Verdict {
    verdict
        .iter()
        .map(|(app, ops)| {
            let mut ops = ops.clone();
            ops.sort();
            (app.clone(), ops)
        })
        .collect()
}

fn show(verdict: &Verdict) -> String {
    if verdict.is_empty() {
        return "no change".to_owned();
    }
    verdict
        .iter()
        .map(|(app, ops)| {
            let ops: Vec<String> = ops
                .iter()
                .map(|(t, m, n)| format!("{t}({m}.{n})"))
                .collect();
            format!("{app}: {}", ops.join(" "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
#[allow(clippy::print_stdout)]
fn the_base_project_needs_no_migration() {
    if !scenarios().join("base").is_dir() {
        return;
    }
    let (verdict, notes) = ours(&project_source(None));
    for note in &notes {
        println!("note: {note}");
    }
    assert!(
        verdict.is_empty(),
        "the base project has no missing migration, but: {}",
        show(&verdict)
    );
}

/// The fixture projects written by `makemigrations` itself: Django sees
/// no change in them, and neither may migguard.
#[test]
#[allow(clippy::print_stdout)]
fn fixture_projects_agree_with_django() {
    let empty = tempfile::tempdir().expect("a temporary directory");
    for name in ["basic", "large", "conflict_merged"] {
        let dir = repo_root()
            .join("tests/fixtures/django/projects")
            .join(name);
        if !dir.is_dir() {
            continue;
        }
        let expected =
            django_at(&dir, empty.path()).unwrap_or_else(|e| panic!("Django refused {name}: {e}"));
        let source = project_source_at(&dir, None);
        let started = std::time::Instant::now();
        let (verdict, notes) = ours(&source);
        println!("{name}: migguard took {:?}", started.elapsed());
        println!(
            "{name}: django {}, migguard {}, {} notes",
            show(&expected),
            show(&verdict),
            notes.len()
        );
        for note in &notes {
            println!("  note: {note}");
        }
        assert_eq!(unordered(&verdict), unordered(&expected), "{name}");
    }
}

struct Row {
    case: String,
    django: Result<Verdict, String>,
    ours: Verdict,
    notes: Vec<String>,
}

#[test]
#[allow(clippy::print_stdout)]
fn agrees_with_djangos_autodetector() {
    let cases_dir = std::env::var_os("MIGGUARD_SCENARIO_CASES")
        .map_or_else(|| scenarios().join("cases"), PathBuf::from);
    let Ok(entries) = std::fs::read_dir(&cases_dir) else {
        println!("no scenario suite at {}", cases_dir.display());
        return;
    };
    let mut cases: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let filter = std::env::var("MIGGUARD_SCENARIO").ok();
    if let Some(filter) = &filter {
        cases.retain(|c| c.to_string_lossy().contains(filter.as_str()));
    }
    let rows: Mutex<Vec<Row>> = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(4, |n| n.get())
        .clamp(2, 16);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(index) else { break };
                let django = django(case);
                let (ours, notes) = ours(&project_source(Some(case)));
                let name = case.file_name().unwrap().to_string_lossy().into_owned();
                rows.lock().unwrap().push(Row {
                    case: name,
                    django,
                    ours,
                    notes,
                });
            });
        }
    });
    let mut rows = rows.into_inner().unwrap();
    rows.sort_by(|a, b| a.case.cmp(&b.case));
    let (mut agree, mut total, mut refused, mut in_order) = (0, 0, 0, 0);
    let mut false_alarms = Vec::new();
    let mut disagreements = Vec::new();
    println!("{:<44} {:<8} {:<8} verdict", "case", "django", "migguard");
    for row in &rows {
        let Ok(expected) = &row.django else {
            refused += 1;
            println!("{:<44} refused", row.case);
            continue;
        };
        total += 1;
        let same = unordered(expected) == unordered(&row.ours);
        if same && *expected == row.ours {
            in_order += 1;
        }
        if same {
            agree += 1;
        } else {
            if expected.is_empty() {
                false_alarms.push(row.case.clone());
            }
            disagreements.push(format!(
                "{}\n    django:   {}\n    migguard: {}",
                row.case,
                show(expected),
                show(&row.ours)
            ));
        }
        let flag = |v: &Verdict| if v.is_empty() { "-" } else { "change" };
        println!(
            "{:<44} {:<8} {:<8} {}{}",
            row.case,
            flag(expected),
            flag(&row.ours),
            if same { "agree" } else { "DISAGREE" },
            if row.notes.is_empty() {
                String::new()
            } else {
                format!(" ({} unresolved)", row.notes.len())
            }
        );
        if std::env::var_os("MIGGUARD_SCENARIO_NOTES").is_some() {
            for note in &row.notes {
                println!("    note: {note}");
            }
            let source = project_source(Some(&cases_dir.join(&row.case)));
            let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default())
                .expect("analysis runs");
            for d in rules::models::check(&project, &source) {
                if d.rule == Rule::MissingMigration {
                    println!(
                        "    {}:{}: {}",
                        d.location.path.as_deref().unwrap_or("?"),
                        d.location.line.unwrap_or(0),
                        d.message
                    );
                }
            }
        }
    }
    for d in &disagreements {
        println!("{d}");
    }
    let rate = if total == 0 {
        1.0
    } else {
        agree as f64 / total as f64
    };
    // Written past the test harness's capture, so that every CI log shows it.
    let _ = writeln!(
        std::io::stderr(),
        "autodetector vs makemigrations --check: agreement {agree}/{total} = {:.1}% ({refused} refused by Django; {in_order} with the operations in Django's exact order); false alarms: {}",
        rate * 100.0,
        false_alarms.len()
    );
    assert!(
        false_alarms.is_empty(),
        "false alarms on cases Django sees no change in: {false_alarms:?}"
    );
    if filter.is_none() && std::env::var_os("MIGGUARD_SCENARIO_CASES").is_none() {
        assert!(rate >= 0.97, "agreement {:.1}% is below 97%", rate * 100.0);
    }
}

// ---------------------------------------------------------------------------
// migguard's own cases, on top of the suite: models that `makemigrations`
// has just been run for (so Django's own serialisation of the field or
// option is in the migrations), then either left alone or edited once.
// Each covers what the suite does not: generated fields, expression
// indexes, unnamed index names, multi-table inheritance, managers with
// arguments, `Meta` options, enums, relations with every option.

const OWN_IMPORTS: &str = "import datetime\nimport enum\nimport uuid\nfrom decimal import Decimal\n\nfrom django.core.serializers.json import DjangoJSONEncoder\nfrom django.core.validators import MinValueValidator, RegexValidator\nfrom django.db.models import F\nfrom django.db.models.functions import Now, Upper\n";

/// A text replacement: `(from, to)`.
type Edit = (&'static str, &'static str);

/// `(name, models appended to blog/models.py, follow-up edit)`.
const OWN_CASES: &[(&str, &str, Option<Edit>)] = &[
    (
        "generated_and_defaults",
        "class Calc(models.Model):\n    a = models.IntegerField(default=0)\n    double = models.GeneratedField(expression=F(\"a\") * 2, output_field=models.BigIntegerField(), db_persist=True)\n    seen = models.DateTimeField(db_default=Now())\n    price = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal(\"1.50\"))\n    day = models.DateField(default=datetime.date(2020, 1, 1))\n    token = models.UUIDField(default=uuid.uuid4)\n    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)\n",
        Some(("expression=F(\"a\") * 2", "expression=F(\"a\") * 3")),
    ),
    (
        "indexes_and_constraints",
        "class Indexed(models.Model):\n    a = models.IntegerField(default=0)\n    title = models.CharField(max_length=20)\n    owner = models.ForeignKey(Tag, on_delete=models.CASCADE)\n\n    class Meta:\n        indexes = [\n            models.Index(fields=[\"a\", \"-title\"]),\n            models.Index(fields=[\"owner\"]),\n            models.Index(fields=[\"title\"], name=\"idx_title_cond\", condition=Q(a__gt=1)),\n            models.Index(Upper(\"title\"), F(\"a\").desc(), name=\"idx_expr\"),\n        ]\n        constraints = [\n            models.CheckConstraint(condition=~Q(a=3) & (Q(title=\"\") | Q(a__gte=1)), name=\"con_a\"),\n            models.UniqueConstraint(Lower(\"title\"), name=\"con_title_lower\"),\n            models.CheckConstraint(condition=Q(a__lte=100), name=\"con_max\", violation_error_message=\"too big\"),\n        ]\n",
        Some(("violation_error_message=\"too big\"", "violation_error_message=\"way too big\"")),
    ),
    (
        "meta_options",
        "class Meta1(models.Model):\n    a = models.IntegerField(default=0)\n    created = models.DateTimeField(null=True)\n\n    class Meta:\n        ordering = [F(\"created\").desc(nulls_last=True), \"a\"]\n        permissions = [(\"do_x\", \"Can do x\")]\n        default_permissions = (\"add\",)\n        get_latest_by = [\"created\", \"a\"]\n        db_table_comment = \"a comment\"\n        unique_together = (\"a\", \"created\")\n",
        Some(("\"a comment\"", "\"another comment\"")),
    ),
    (
        "choices_and_enums",
        "class Mood(models.TextChoices):\n    HAPPY = enum.auto()\n    SAD_ONE = \"sad\"\n    __empty__ = \"(none)\"\n\n\nclass Level(models.IntegerChoices):\n    ONE = 1\n    TWO = 2, \"Two!\"\n\n\nclass Choosy(models.Model):\n    mood = models.CharField(max_length=10, choices=Mood, blank=True)\n    level = models.IntegerField(choices=Level.choices, default=Level.TWO)\n    grouped = models.CharField(max_length=5, choices=[(\"Audio\", [(\"v\", \"Vinyl\"), (\"c\", \"CD\")]), (\"u\", \"Unknown\")])\n    mapped = models.CharField(max_length=5, choices={\"a\": \"A\", \"b\": \"B\"})\n",
        Some(("SAD_ONE = \"sad\"", "SAD_TWO = \"sad\"")),
    ),
    (
        "relations",
        "class Rel(models.Model):\n    tag = models.ForeignKey(Tag, to_field=\"slug\", on_delete=models.CASCADE, db_constraint=False, related_name=\"+\")\n    cat = models.ForeignKey(Category, on_delete=models.SET_DEFAULT, default=1, limit_choices_to=Q(position__gte=0), related_query_name=\"relq\")\n    users = models.ManyToManyField(settings.AUTH_USER_MODEL, through=\"RelMember\", through_fields=(\"rel\", \"user\"), related_name=\"rels\")\n    tags = models.ManyToManyField(Tag, db_table=\"rel_tags_table\", related_name=\"rels\")\n\n\nclass RelMember(models.Model):\n    rel = models.ForeignKey(Rel, on_delete=models.CASCADE)\n    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)\n    inviter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name=\"+\")\n",
        Some(("db_constraint=False", "db_constraint=True")),
    ),
    (
        "inheritance_and_managers",
        "class CountManager(models.Manager):\n    use_in_migrations = True\n\n    def __init__(self, limit=5):\n        super().__init__()\n        self.limit = limit\n\n\nclass Place(models.Model):\n    name = models.CharField(max_length=20)\n    people = models.Manager()\n    counted = CountManager(limit=7)\n\n    class Meta:\n        default_manager_name = \"counted\"\n\n\nclass Restaurant(Place):\n    seats = models.IntegerField(default=0)\n\n\nclass CheapRestaurant(Restaurant):\n    class Meta:\n        proxy = True\n        ordering = [\"seats\"]\n",
        Some(("CountManager(limit=7)", "CountManager(limit=8)")),
    ),
    (
        "field_options",
        "def upload_path(instance, filename):\n    return filename\n\n\nclass Opts(models.Model):\n    path = models.FilePathField(path=\"/tmp\", match=r\".*\\.txt\", recursive=True)\n    ip = models.GenericIPAddressField(unpack_ipv4=True, null=True)\n    at = models.TimeField(auto_now=True)\n    blob = models.BinaryField(editable=True, null=True)\n    slug = models.SlugField(allow_unicode=True, db_index=False)\n    title = models.CharField(\"the code\", max_length=20, validators=[MinValueValidator(1), RegexValidator(r\"^a\", message=\"bad\")])\n    f = models.FileField(upload_to=upload_path, max_length=200)\n",
        Some(("max_length=200)", "max_length=100)")),
    ),
];

/// A case's name, Django's verdict and migguard's.
type OwnResult = (String, Result<Verdict, String>, Verdict);

/// The scenario base with `blog/models.py` extended, after `makemigrations blog`.
fn settled_project(dir: &Path, models: &str) -> Result<(), String> {
    let base = scenarios().join("base");
    for (path, bytes) in files_below(&base) {
        let target = dir.join(&path);
        std::fs::create_dir_all(target.parent().unwrap()).map_err(|e| e.to_string())?;
        std::fs::write(&target, bytes).map_err(|e| e.to_string())?;
    }
    let blog = std::fs::read_to_string(base.join("blog/models.py")).map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join("blog/models.py"),
        format!("{OWN_IMPORTS}{blog}\n\n{models}"),
    )
    .map_err(|e| e.to_string())?;
    let output = Command::new(python())
        .args(["manage.py", "makemigrations", "blog", "--noinput"])
        .current_dir(dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONHASHSEED", "0")
        .env_remove("DJANGO_SETTINGS_MODULE")
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    Ok(())
}

#[test]
#[allow(clippy::print_stdout)]
fn own_cases_agree_with_django() {
    if !scenarios().join("base").is_dir() {
        return;
    }
    let jobs: Vec<(String, &str, Option<Edit>)> = OWN_CASES
        .iter()
        .flat_map(|(name, models, follow)| {
            let mut v = vec![(format!("{name}_settled"), *models, None)];
            if let Some(edit) = follow {
                v.push((format!("{name}_edited"), *models, Some(*edit)));
            }
            v
        })
        .collect();
    let results: Mutex<Vec<OwnResult>> = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(2, 8)
        {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some((name, models, edit)) = jobs.get(index) else {
                    break;
                };
                let project = tempfile::tempdir().expect("a temporary directory");
                let overlay = tempfile::tempdir().expect("a temporary directory");
                settled_project(project.path(), models)
                    .unwrap_or_else(|e| panic!("makemigrations failed for {name}: {e}"));
                if let Some((from, to)) = edit {
                    let text =
                        std::fs::read_to_string(project.path().join("blog/models.py")).unwrap();
                    assert!(text.contains(from), "{name}: {from}");
                    std::fs::create_dir_all(overlay.path().join("blog")).unwrap();
                    std::fs::write(
                        overlay.path().join("blog/models.py"),
                        text.replacen(from, to, 1),
                    )
                    .unwrap();
                }
                let expected = django_at(project.path(), overlay.path());
                let (verdict, _) = ours(&project_source_at(project.path(), Some(overlay.path())));
                results
                    .lock()
                    .unwrap()
                    .push((name.clone(), expected, verdict));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let mut failures = Vec::new();
    for (name, expected, verdict) in &results {
        let expected = expected
            .as_ref()
            .unwrap_or_else(|e| panic!("Django refused {name}: {e}"));
        println!(
            "{name:<40} django: {:<50} migguard: {}",
            show(expected),
            show(verdict)
        );
        if unordered(expected) != unordered(verdict) {
            failures.push(name.clone());
        }
    }
    assert!(failures.is_empty(), "disagreements: {failures:?}");
}
