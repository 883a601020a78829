//! A whole project: discovery, parsing (parallel, cached), the graph and
//! the rules that need nothing but the files.

mod discover;
mod django_settings;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub use discover::{discover, App, Discovery, MigrationFile};
pub use django_settings::DjangoSettings;

use crate::config::Settings;
use crate::diagnostic::{Diagnostic, Location, Severity};
use crate::error::SourceError;
use crate::graph::{self, AppliedSet, BuildInput, GraphBuild};
use crate::model::{Migration, MigrationKey};
use crate::parse::{parse_migration, ParsedMigration};
use crate::rules::input::invalid_migration::InvalidMigration;
use crate::rules::{self, Rule};
use crate::source::{blob_id, ProjectSource};

/// Bump when the parsed model changes shape, so old cache entries are not used.
pub const PARSE_FORMAT: u32 = 2;

/// Parsed files by content: see `migguard_cli`'s on-disk cache.
pub trait ParseCache: Sync {
    fn get(&self, key: &str) -> Option<ParsedMigration>;
    fn put(&self, key: &str, value: &ParsedMigration);

    /// What reading a models module gave (see [`module_cache_key`]); a
    /// cache that keeps only migrations answers `None`.
    fn get_module(&self, _key: &str) -> Option<ModuleRead> {
        None
    }

    fn put_module(&self, _key: &str, _value: &ModuleRead) {}
}

/// What [`crate::parse::models::read_module`] returns.
pub type ModuleRead = Result<crate::parse::models::PyModule, crate::parse::models::ModuleError>;

/// The cache key of a module read by the models reader: its content id,
/// its dotted name and package (relative imports resolve through them).
pub fn module_cache_key(content_id: &str, name: &str, package: &str) -> String {
    let mut hasher = sha1_smol::Sha1::new();
    for part in [
        "module",
        &PARSE_FORMAT.to_string(),
        env!("CARGO_PKG_VERSION"),
        content_id,
        name,
        package,
    ] {
        hasher.update(part.as_bytes());
        hasher.update(b"\0");
    }
    hasher.digest().to_string()
}

/// The cache key of a file: its content id and everything else the parse
/// result depends on.
pub fn cache_key(content_id: &str, file: &MigrationFile) -> String {
    let mut hasher = sha1_smol::Sha1::new();
    for part in [
        &PARSE_FORMAT.to_string(),
        env!("CARGO_PKG_VERSION"),
        content_id,
        &file.path,
        &file.key.app,
        &file.key.name,
        &file.package,
    ] {
        hasher.update(part.as_bytes());
        hasher.update(b"\0");
    }
    hasher.digest().to_string()
}

#[derive(Default)]
pub struct AnalyzeOptions<'a> {
    pub cache: Option<&'a dyn ParseCache>,
    /// Applied migrations, when a database was read.
    pub applied: Option<&'a AppliedSet>,
}

/// Everything known about a project's migrations at one revision.
#[derive(Debug, Clone, Default)]
pub struct Project {
    pub discovery: Discovery,
    pub settings: DjangoSettings,
    /// Files that parsed into a migration, in discovery order.
    pub migrations: Vec<Migration>,
    /// Content ids of the migration files, by path, as read.
    pub content_ids: std::collections::BTreeMap<String, String>,
    pub graph: GraphBuild,
    /// Findings of the input and graph rules, configuration applied, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// Findings of the input and graph rules that an inline suppression
    /// removed from `diagnostics` (configuration applied): what makes those
    /// suppressions used, for `unused-suppression`.
    pub suppressed: Vec<Diagnostic>,
    /// Every file of the source, as listed when the project was read (the
    /// models reader indexes the project's modules from it).
    pub files: Vec<String>,
}

impl Project {
    /// The parsed migration with this key. `migrations` comes out of
    /// discovery in key order, so this is a binary search; a project whose
    /// list was assembled otherwise still gets the right answer.
    pub fn migration(&self, key: &crate::model::MigrationKey) -> Option<&Migration> {
        match self.migrations.binary_search_by(|m| m.key.cmp(key)) {
            Ok(index) => Some(&self.migrations[index]),
            Err(_) => self.migrations.iter().find(|m| &m.key == key),
        }
    }

    /// Migrations found on disk that could not be read (each reported by
    /// its own diagnostic): their dependencies are unknown.
    pub fn unreadable(&self) -> BTreeSet<&MigrationKey> {
        let read: BTreeSet<&MigrationKey> = self.migrations.iter().map(|m| &m.key).collect();
        self.discovery
            .files
            .iter()
            .map(|f| &f.key)
            .filter(|k| !read.contains(k))
            .collect()
    }

    pub fn migration_at(&self, path: &str) -> Option<&Migration> {
        self.migrations.iter().find(|m| m.path == path)
    }
}

/// Analyse a project as found in `source`.
pub fn analyze(
    source: &dyn ProjectSource,
    settings: &Settings,
    options: &AnalyzeOptions<'_>,
) -> Result<Project, SourceError> {
    let files = source.list()?;
    let django = DjangoSettings::read(&files, source, settings);
    let discovery = discover(&files, source, settings, &django);
    let parsed = parse_all(source, &discovery.files, options.cache);

    let mut diagnostics = discovery.diagnostics.clone();
    let mut migrations = Vec::new();
    let mut content_ids = std::collections::BTreeMap::new();
    for (file, (content_id, result)) in discovery.files.iter().zip(parsed) {
        if let Some(id) = content_id {
            content_ids.insert(file.path.clone(), id);
        }
        diagnostics.extend(result.diagnostics.into_iter().map(|mut d| {
            // A file Django may never load (its package was only guessed to
            // be an installed app's) cannot be said to break anything.
            if discovery.guessed
                && matches!(d.rule, Rule::SyntaxError | Rule::InvalidMigration)
                && d.severity == Severity::Error
            {
                d.severity = Severity::Warning;
                d.message.push_str(
                    " (counted because INSTALLED_APPS could not be followed; Django may never \
                     load this package)",
                );
            }
            d
        }));
        migrations.extend(result.migration);
    }
    let project_apps = discovery.app_labels();
    let swappable = |setting: &str| django.swappable(setting);
    let graph = graph::build(&BuildInput {
        migrations: &migrations,
        project_apps: &project_apps,
        swappable: &swappable,
        applied: options.applied,
    });
    let mut project = Project {
        discovery,
        settings: django,
        migrations,
        content_ids,
        graph,
        diagnostics: Vec::new(),
        suppressed: Vec::new(),
        files,
    };
    diagnostics.extend(rules::graph::check(&project));
    let (kept, suppressed) = finish_recording(&project, settings, diagnostics);
    project.diagnostics = kept;
    project.suppressed = suppressed;
    Ok(project)
}

/// Apply configuration and inline suppressions, then sort.
pub fn finish(
    project: &Project,
    settings: &Settings,
    diagnostics: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    finish_recording(project, settings, diagnostics).0
}

/// [`finish`], also returning the findings that inline suppressions
/// removed (configuration applied): the suppressions they match are used.
pub fn finish_recording(
    project: &Project,
    settings: &Settings,
    diagnostics: Vec<Diagnostic>,
) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    let (suppressed, kept): (Vec<Diagnostic>, Vec<Diagnostic>) = settings
        .apply(diagnostics)
        .into_iter()
        .partition(|d| is_suppressed(project, d));
    (sorted(kept), suppressed)
}

/// Lists of findings already finished, put together: sorted, each once.
pub fn sorted(mut diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diagnostics.dedup();
    diagnostics
}

fn is_suppressed(project: &Project, diagnostic: &Diagnostic) -> bool {
    let (Some(path), Some(line)) = (&diagnostic.location.path, diagnostic.location.line) else {
        return false;
    };
    let Some(migration) = project.migration_at(path) else {
        return false;
    };
    migration.suppressions.iter().any(|s| {
        s.line == line
            && s.rules.iter().any(|r| {
                r == diagnostic.rule.name() || r.eq_ignore_ascii_case(diagnostic.rule.code())
            })
    })
}

/// A file's content id (when known) and what parsing it gave.
type Parsed = (Option<String>, ParsedMigration);

/// Parse every file on worker threads with large stacks, using the cache.
/// Returns, per file, its content id (when known) and the parse result.
fn parse_all(
    source: &dyn ProjectSource,
    files: &[MigrationFile],
    cache: Option<&dyn ParseCache>,
) -> Vec<Parsed> {
    let results: Mutex<Vec<Option<Parsed>>> = Mutex::new(vec![None; files.len()]);
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8)
        .min(files.len().max(1));
    let work = || loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        let Some(file) = files.get(index) else { break };
        let result = parse_one(source, file, cache);
        if let Ok(mut slots) = results.lock() {
            slots[index] = Some(result);
        }
    };
    std::thread::scope(|scope| {
        let mut spawned = 0;
        for _ in 0..workers {
            let builder = std::thread::Builder::new()
                .name("migguard-parse".into())
                .stack_size(256 * 1024 * 1024);
            if builder.spawn_scoped(scope, work).is_ok() {
                spawned += 1;
            }
        }
        if spawned == 0 {
            work();
        }
    });
    let slots = results.into_inner().unwrap_or_default();
    slots
        .into_iter()
        .zip(files)
        .map(|(slot, file)| {
            slot.unwrap_or_else(|| {
                (
                    None,
                    unreadable(file, "the file could not be analysed".to_owned()),
                )
            })
        })
        .collect()
}

fn parse_one(
    source: &dyn ProjectSource,
    file: &MigrationFile,
    cache: Option<&dyn ParseCache>,
) -> Parsed {
    let mut bytes = None;
    let content_id = match source.content_id(&file.path) {
        Some(id) => Some(id),
        None => match source.read(&file.path) {
            Ok(b) => {
                let id = blob_id(&b);
                bytes = Some(b);
                Some(id)
            }
            Err(err) => return (None, unreadable(file, err.to_string())),
        },
    };
    let key = content_id.as_deref().map(|id| cache_key(id, file));
    if let (Some(cache), Some(key)) = (cache, &key) {
        if let Some(hit) = cache.get(key) {
            return (content_id, hit);
        }
    }
    let bytes = match bytes {
        Some(b) => b,
        None => match source.read(&file.path) {
            Ok(b) => b,
            Err(err) => return (content_id, unreadable(file, err.to_string())),
        },
    };
    let parsed = parse_migration(&file.key, &file.path, &file.package, &bytes);
    if let (Some(cache), Some(key)) = (cache, &key) {
        cache.put(key, &parsed);
    }
    (content_id, parsed)
}

fn unreadable(file: &MigrationFile, reason: String) -> ParsedMigration {
    ParsedMigration {
        migration: None,
        diagnostics: vec![Diagnostic::new(
            &InvalidMigration { reason },
            Location::file(file.path.clone()).in_migration(&file.key.app, &file.key.name),
        )],
    }
}
