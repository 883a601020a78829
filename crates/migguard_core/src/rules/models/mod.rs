//! `MG2xx`: the models in `models.py` against the state the migrations build.

pub mod missing_migration;
pub mod unresolved_model;

use crate::autodetect;
use crate::diagnostic::{Diagnostic, Location, Severity};
use crate::models::{self, SourceLine};
use crate::project::{ParseCache, Project};
use crate::source::ProjectSource;
use crate::state;

use missing_migration::MissingMigration;
use unresolved_model::UnresolvedModel;

fn location(app: &str, at: Option<&SourceLine>) -> Location {
    match at {
        Some(at) if !at.path.is_empty() => Location::file(at.path.clone())
            .in_app(app)
            .at(at.line, at.column, None),
        _ => Location::default().in_app(app),
    }
}

/// `missing-migration` for every app whose models differ from its
/// migrations, and `unresolved-model` for what cannot be compared.
pub fn check(project: &Project, source: &dyn ProjectSource) -> Vec<Diagnostic> {
    check_cached(project, source, None)
}

/// [`check`], reading models modules through `cache`.
pub fn check_cached(
    project: &Project,
    source: &dyn ProjectSource,
    cache: Option<&dyn ParseCache>,
) -> Vec<Diagnostic> {
    let analysis = models::analyze_replaying(project, source, cache);
    let changes = autodetect::detect(&analysis, &project.settings);
    let mut out = Vec::new();
    for (app, list) in changes.apps {
        // A false error blocks every commit: only changes the reading is
        // sure of are errors; the others are infos that say why not.
        let (unsure, sure): (Vec<_>, Vec<_>) =
            list.into_iter().partition(|c| c.uncertain.is_some());
        for (changes, certain) in [(sure, true), (unsure, false)] {
            let Some(first) = changes.first() else {
                continue;
            };
            let at = location(&app, first.location.as_ref());
            let mut diagnostic = Diagnostic::new(
                &MissingMigration {
                    app: app.clone(),
                    changes,
                    by_django: false,
                    certain,
                },
                at,
            );
            if !certain {
                diagnostic.severity = Severity::Info;
            }
            out.push(diagnostic);
        }
    }
    for note in &analysis.unresolved {
        out.push(Diagnostic::new(
            &UnresolvedModel {
                app: note.app.clone(),
                model: note.model.clone(),
                item: note.item.clone(),
                reason: note.reason.clone(),
            },
            location(&note.app, Some(&note.location)),
        ));
    }
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

/// `missing-migration` from Django's own verdict (`makemigrations --check
/// --dry-run`, read by [`autodetect::makemigrations`]): one diagnostic per
/// app, at the app's `models.py` when the project has one.
pub fn from_django(
    project: &Project,
    source: &dyn ProjectSource,
    changes: autodetect::Changes,
) -> Vec<Diagnostic> {
    // Where the static reading agrees on an operation, it knows the line.
    let replay = state::replay(project, None);
    let analysis = models::analyze(project, source, &replay);
    let ours = autodetect::detect(&analysis, &project.settings);
    let mut out = Vec::new();
    for (app, mut list) in changes.apps {
        for change in &mut list {
            change.location = ours
                .apps
                .get(&app)
                .into_iter()
                .flatten()
                .find(|c| {
                    (&c.kind, &c.model_name, &c.name)
                        == (&change.kind, &change.model_name, &change.name)
                })
                .and_then(|c| c.location.clone());
        }
        if let Some(at) = list.iter().find_map(|c| c.location.as_ref()) {
            let at = location(&app, Some(at));
            out.push(Diagnostic::new(
                &MissingMigration {
                    app,
                    changes: list,
                    by_django: true,
                    certain: true,
                },
                at,
            ));
            continue;
        }
        let models_py = project
            .discovery
            .apps
            .iter()
            .find(|a| a.label == app)
            .map(|a| match a.dir.as_str() {
                "" => "models.py".to_owned(),
                dir => format!("{dir}/models.py"),
            })
            .filter(|path| source.read(path).is_ok());
        let at = match models_py {
            Some(path) => Location::file(path).in_app(&app),
            None => Location::default().in_app(&app),
        };
        out.push(Diagnostic::new(
            &MissingMigration {
                app,
                changes: list,
                by_django: true,
                certain: true,
            },
            at,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::project::{analyze, AnalyzeOptions};
    use crate::rules::Rule;
    use crate::source::MemorySource;

    const MIGRATION: &str = r#"from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Post',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created', models.DateTimeField(auto_now_add=True)),
                ('title', models.CharField(max_length=100)),
                ('slug', models.SlugField()),
                ('status', models.CharField(choices=[('d', 'Draft'), ('p', 'Published')], default='d', max_length=1)),
                ('author', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'abstract': False,
            },
        ),
    ]
"#;

    const CORE: &str = r#"from django.db import models

MAX_TITLE = 100


class Status(models.TextChoices):
    DRAFT = "d", "Draft"
    PUBLISHED = "p", "Published"


class TimeStamped(models.Model):
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
"#;

    const MODELS: &str = r#"from django.conf import settings
from django.db import models

from core.models import MAX_TITLE, Status, TimeStamped


class Post(TimeStamped):
    """A post."""

    title = models.CharField(max_length=MAX_TITLE)
    slug = models.SlugField()
    status = models.CharField(max_length=1, choices=Status.choices, default=Status.DRAFT)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    def __str__(self):
        return self.title
"#;

    fn run(edits: &[(&str, &str)]) -> Vec<Diagnostic> {
        run_with(edits, &[])
    }

    fn run_with(edits: &[(&str, &str)], removed: &[&str]) -> Vec<Diagnostic> {
        let mut source = MemorySource::new("test");
        for (path, text) in [
            ("manage.py", "import os\nos.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"config.settings\")\n"),
            ("config/__init__.py", ""),
            ("config/settings.py", "DEFAULT_AUTO_FIELD = \"django.db.models.BigAutoField\"\n"),
            ("core/__init__.py", ""),
            ("core/migrations/__init__.py", ""),
            ("core/models.py", CORE),
            ("blog/__init__.py", ""),
            ("blog/migrations/__init__.py", ""),
            ("blog/migrations/0001_initial.py", MIGRATION),
            ("blog/models.py", MODELS),
        ] {
            if !removed.contains(&path) {
                source.insert(path, text);
            }
        }
        for (path, text) in edits {
            source.insert(*path, *text);
        }
        let project = analyze(&source, &Settings::default(), &AnalyzeOptions::default())
            .expect("analysis runs");
        check(&project, &source)
    }

    fn operations(diagnostics: &[Diagnostic]) -> Vec<(String, String, String)> {
        diagnostics
            .iter()
            .filter(|d| d.rule == Rule::MissingMigration)
            .flat_map(|d| {
                d.details["operations"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|op| {
                let s = |k: &str| op[k].as_str().unwrap_or_default().to_owned();
                (s("type"), s("model_name"), s("name"))
            })
            .collect()
    }

    fn op(t: &str, m: &str, n: &str) -> (String, String, String) {
        (t.to_owned(), m.to_owned(), n.to_owned())
    }

    fn models(from: &str, to: &str) -> String {
        assert!(MODELS.contains(from), "{from}");
        MODELS.replacen(from, to, 1)
    }

    #[test]
    fn an_unchanged_project_needs_nothing() {
        assert_eq!(run(&[]), Vec::new());
    }

    #[test]
    fn an_added_field_is_reported_at_its_line() {
        let text = models("    slug = models.SlugField()\n", "    slug = models.SlugField()\n    subtitle = models.CharField(max_length=50, blank=True)\n");
        let diagnostics = run(&[("blog/models.py", &text)]);
        assert_eq!(
            operations(&diagnostics),
            vec![op("AddField", "post", "subtitle")]
        );
        let d = &diagnostics[0];
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.location.path.as_deref(), Some("blog/models.py"));
        assert_eq!(d.location.line, Some(12));
        assert_eq!(d.location.app.as_deref(), Some("blog"));
        assert!(
            d.message.contains("app `blog`") && d.message.contains("post.subtitle"),
            "{}",
            d.message
        );
        assert_eq!(
            d.help.as_deref(),
            Some("run `python manage.py makemigrations blog`")
        );
    }

    #[test]
    fn a_manager_built_at_import_time_is_named_as_written() {
        let text = models(
            "class Post(TimeStamped):\n",
            "PostManager = models.Manager.from_queryset(models.QuerySet)\n\n\nclass Post(TimeStamped):\n    objects = PostManager()\n",
        );
        let diagnostics = run(&[("blog/models.py", &text)]);
        let notes: Vec<&str> = diagnostics
            .iter()
            .filter(|d| d.rule == Rule::UnresolvedModel)
            .map(|d| d.message.as_str())
            .collect();
        assert!(!notes.is_empty(), "{diagnostics:#?}");
        for note in notes {
            assert!(note.contains("`PostManager(...)`"), "{note}");
            assert!(!note.contains("Call {"), "{note}");
        }
    }

    /// Each abstract model's `Meta` inherits its parent's: reading whether
    /// a class is abstract is done once per class (it was exponential in
    /// the depth of the chain).
    #[test]
    fn a_long_chain_of_abstract_meta_inheritance_is_read() {
        let mut text = MODELS.to_owned();
        let mut parent = "models.Model".to_owned();
        for i in 0..24 {
            let meta = if i == 0 {
                String::new()
            } else {
                format!("({parent}.Meta)")
            };
            text.push_str(&format!(
                "\n\nclass A{i}({parent}):\n    f{i} = models.IntegerField(default=0)\n\n    class Meta{meta}:\n        abstract = True\n"
            ));
            parent = format!("A{i}");
        }
        text.push_str("\n\nclass Big(A23):\n    pass\n");
        let diagnostics = run(&[("blog/models.py", &text)]);
        assert_eq!(
            operations(&diagnostics),
            vec![op("CreateModel", "big", "big")]
        );
    }

    /// A field written so that it cannot be read (`**kwargs`) is neither
    /// new nor removed: it is left out, with a note.
    #[test]
    fn a_field_that_cannot_be_read_is_never_claimed_added_or_removed() {
        let text = models(
            "    slug = models.SlugField()\n",
            "    slug = models.SlugField(**SLUG_OPTIONS)\n",
        );
        let text = format!("SLUG_OPTIONS = {{'max_length': 50}}\n{text}");
        let diagnostics = run(&[("blog/models.py", &text)]);
        assert!(operations(&diagnostics).is_empty(), "{diagnostics:#?}");
        assert!(
            diagnostics.iter().any(|d| d.rule == Rule::UnresolvedModel
                && d.message.contains("SlugField(**SLUG_OPTIONS)")),
            "{diagnostics:#?}"
        );
    }

    /// A difference that rests on a value migguard cannot evaluate (a
    /// constant of another library) is an info that says so, never an
    /// error: the same project passes `makemigrations --check`.
    #[test]
    fn a_difference_on_an_unknowable_value_is_an_info() {
        let text = models(
            "    slug = models.SlugField()\n",
            "    slug = models.SlugField(max_length=logging.INFO)\n",
        );
        let text = format!("import logging\n{text}");
        let diagnostics = run(&[("blog/models.py", &text)]);
        let found: Vec<&Diagnostic> = diagnostics
            .iter()
            .filter(|d| d.rule == Rule::MissingMigration)
            .collect();
        assert_eq!(found.len(), 1, "{diagnostics:#?}");
        assert_eq!(found[0].severity, Severity::Info);
        assert_eq!(found[0].details["certain"], false);
        assert!(
            found[0].message.contains("not certain") && found[0].message.contains("logging.INFO"),
            "{}",
            found[0].message
        );
        // A literal difference stays an error.
        let text = models(
            "    slug = models.SlugField()\n",
            "    slug = models.SlugField(max_length=20)\n",
        );
        let diagnostics = run(&[("blog/models.py", &text)]);
        assert!(diagnostics
            .iter()
            .any(|d| d.rule == Rule::MissingMigration && d.severity == Severity::Error));
    }

    #[test]
    fn a_changed_max_length_is_an_alter_field() {
        let core = CORE.replace("MAX_TITLE = 100", "MAX_TITLE = 200");
        let diagnostics = run(&[("core/models.py", &core)]);
        assert_eq!(
            operations(&diagnostics),
            vec![op("AlterField", "post", "title")]
        );
        assert!(
            diagnostics[0].message.contains("`max_length` 100 -> 200"),
            "{}",
            diagnostics[0].message
        );
    }

    #[test]
    fn defaults_written_explicitly_change_nothing() {
        let text = models(
            "slug = models.SlugField()",
            "slug = models.SlugField(max_length=50, db_index=True, blank=False)",
        );
        let text = text.replace(
            "author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)",
            "author = models.ForeignKey(\"auth.User\", on_delete=models.deletion.CASCADE, to_field=\"id\")",
        );
        assert_eq!(run(&[("blog/models.py", &text)]), Vec::new());
    }

    #[test]
    fn enum_choices_compare_as_the_list_django_writes() {
        let inline = models(
            "choices=Status.choices, default=Status.DRAFT",
            "choices=[(\"d\", \"Draft\"), (\"p\", \"Published\")], default=\"d\"",
        );
        assert_eq!(run(&[("blog/models.py", &inline)]), Vec::new());
        let core = CORE.replace(
            "    PUBLISHED = \"p\", \"Published\"\n",
            "    PUBLISHED = \"p\", \"Published\"\n    ARCHIVED = \"a\"\n",
        );
        let diagnostics = run(&[("core/models.py", &core)]);
        assert_eq!(
            operations(&diagnostics),
            vec![op("AlterField", "post", "status")]
        );
    }

    #[test]
    fn abstract_bases_in_other_apps_are_followed() {
        let core = CORE.replace(
            "    created = models.DateTimeField(auto_now_add=True)\n",
            "    created = models.DateTimeField(auto_now_add=True)\n    updated = models.DateTimeField(auto_now=True)\n",
        );
        let diagnostics = run(&[("core/models.py", &core)]);
        assert_eq!(
            operations(&diagnostics),
            vec![op("AddField", "post", "updated")]
        );
        // The location is the field's line in the abstract base.
        assert_eq!(
            diagnostics[0].location.path.as_deref(),
            Some("core/models.py")
        );
        assert_eq!(diagnostics[0].location.line, Some(13));
    }

    #[test]
    fn methods_docstrings_and_comments_are_ignored() {
        let text = models(
            "    def __str__(self):\n        return self.title\n",
            "    # a comment\n    def __str__(self):\n        \"\"\"Text.\"\"\"\n        return self.title.upper()\n\n    @property\n    def short(self):\n        return self.title[:10]\n",
        );
        assert_eq!(run(&[("blog/models.py", &text)]), Vec::new());
    }

    #[test]
    fn models_added_and_removed() {
        let text = format!(
            "{MODELS}\n\nclass Tag(models.Model):\n    name = models.CharField(max_length=20)\n"
        );
        assert_eq!(
            operations(&run(&[("blog/models.py", &text)])),
            vec![op("CreateModel", "tag", "tag")]
        );
        let empty = "from django.db import models\n";
        assert_eq!(
            operations(&run(&[("blog/models.py", empty)])),
            vec![op("DeleteModel", "post", "post")]
        );
    }

    #[test]
    fn what_cannot_be_known_is_noted_not_reported() {
        let fields = "from django.db import models\n\n\nclass TitleField(models.CharField):\n    def __init__(self, *args, **kwargs):\n        kwargs.setdefault(\"max_length\", 100)\n        super().__init__(*args, **kwargs)\n";
        let text = models(
            "title = models.CharField(max_length=MAX_TITLE)",
            "title = TitleField()",
        )
        .replace(
            "from core.models",
            "from blog.fields import TitleField\nfrom core.models",
        );
        let diagnostics = run(&[("blog/fields.py", fields), ("blog/models.py", &text)]);
        assert_eq!(operations(&diagnostics), Vec::new());
        let notes: Vec<&Diagnostic> = diagnostics
            .iter()
            .filter(|d| d.rule == Rule::UnresolvedModel)
            .collect();
        assert_eq!(notes.len(), 1, "{diagnostics:#?}");
        assert_eq!(notes[0].severity, Severity::Info);
        assert!(
            notes[0].message.contains("blog.Post.title"),
            "{}",
            notes[0].message
        );
        assert!(
            notes[0].message.contains("defines its own `__init__`"),
            "{}",
            notes[0].message
        );
    }

    #[test]
    fn without_settings_the_user_model_and_primary_key_are_not_guessed() {
        let text = models(
            "settings.AUTH_USER_MODEL, on_delete=models.CASCADE",
            "\"accounts.User\", on_delete=models.CASCADE",
        );
        let diagnostics = run_with(
            &[("blog/models.py", &text)],
            &["manage.py", "config/settings.py"],
        );
        assert_eq!(operations(&diagnostics), Vec::new(), "{diagnostics:#?}");
        let notes: Vec<&str> = diagnostics
            .iter()
            .filter(|d| d.rule == Rule::UnresolvedModel)
            .map(|d| d.message.as_str())
            .collect();
        assert!(
            notes.iter().any(|n| n.contains("AUTH_USER_MODEL")),
            "{notes:#?}"
        );
        assert!(
            notes.iter().any(|n| n.contains("primary key")),
            "{notes:#?}"
        );
    }

    #[test]
    fn broken_models_never_panic() {
        let chain: String = (0..400)
            .map(|i| format!("class C{}(C{}):\n    pass\n", i + 1, i))
            .collect::<String>();
        let chain =
            format!("from django.db import models\nclass C0(models.Model):\n    pass\n{chain}");
        let cyclic = "from blog.models import *\nfrom django.db import models\nclass A(B):\n    pass\nclass B(A):\n    pass\nX = Y\nY = X\n";
        for text in [
            "class Post(:\n",
            "x = (((((((1)))))))\nclass A(A): pass\n",
            "\u{0}\u{ff}",
            "from django.db import models\nclass A(models.Model):\n    x = models.CharField(max_length=-9223372036854775808 // -1)\n    y = models.IntegerField(default=2 ** 99 % 0)\n",
            chain.as_str(),
            cyclic,
        ] {
            let diagnostics = run(&[("blog/models.py", text), ("core/models.py", cyclic)]);
            assert!(diagnostics.iter().all(|d| d.location.app.is_some()));
        }
    }
}
