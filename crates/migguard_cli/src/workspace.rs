//! Opening a project: which files (working tree, staging area, commit),
//! which configuration, which cache.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use migguard_core::audit::Selection;
use migguard_core::config::{Options, Settings};
use migguard_core::project::{self, AnalyzeOptions, Project};
use migguard_core::source::{blob_id, ProjectSource, WorkTree};
use migguard_git::{DiskCache, IndexSource, Repo, TreeSource};

use crate::args::SourceArgs;

/// A project ready to analyse.
pub struct Workspace {
    pub source: Box<dyn ProjectSource>,
    pub settings: Settings,
    /// The project directory as given, for messages.
    pub root: PathBuf,
    /// The repository holding the project, and the project's directory
    /// inside its work tree (`""` at the top level).
    pub git: Option<(Repo, String)>,
    /// The files are the working tree's (not `--at` or `--staged`).
    worktree: bool,
    cache: Option<DiskCache>,
}

impl Workspace {
    pub fn open(args: &SourceArgs) -> Result<Workspace> {
        let root = args.path.clone();
        if !root.is_dir() {
            anyhow::bail!("{} is not a directory", root.display());
        }
        let repo = Repo::discover(&root).ok();
        let worktree = args.at.is_none() && !args.staged;
        let source: Box<dyn ProjectSource> = if !worktree {
            let repo = repo
                .as_ref()
                .with_context(|| format!("{} is not inside a git repository", root.display()))?;
            let prefix = prefix_in_repo(repo, &root)?;
            match &args.at {
                Some(rev) => Box::new(TreeSource::at(repo, rev, &prefix)?),
                None => Box::new(
                    IndexSource::staged(repo, &prefix).context("cannot read the staging area")?,
                ),
            }
        } else {
            Box::new(WorkTree::new(&root))
        };
        let settings = load_settings(source.as_ref(), &root)?;
        let cache = repo.as_ref().map(|r| DiskCache::open(&r.common_dir()));
        let git = repo.and_then(|r| prefix_in_repo(&r, &root).ok().map(|p| (r, p)));
        Ok(Workspace {
            source,
            settings,
            root,
            git,
            worktree,
            cache,
        })
    }

    /// A file's content as git stores it: for the working tree of a
    /// repository, with git's clean filters applied (`core.autocrlf`,
    /// `.gitattributes`), so that it hashes as the committed file will;
    /// otherwise as the source has it. What a review is bound to.
    pub fn stored_content(&self, path: &str) -> Result<Vec<u8>> {
        match &self.git {
            Some((repo, _)) if self.worktree => Ok(repo.stored_content(&self.root.join(path))?),
            _ => Ok(self.source.read(path)?),
        }
    }

    /// The migrations changed since `rev` (a revision of the repository
    /// holding the project), compared as git stores them.
    pub fn changed_since(&self, project: &Project, rev: &str) -> Result<Selection> {
        let base = self.tree_at(rev)?;
        Ok(Selection::changed_since(project, &base, &|path| {
            self.stored_content(path).ok().map(|bytes| blob_id(&bytes))
        }))
    }

    /// The project's files at `rev`, from the same directory of the repository.
    pub fn tree_at(&self, rev: &str) -> Result<TreeSource> {
        let (repo, prefix) = self.git.as_ref().with_context(|| {
            format!(
                "{} is not in a git repository: there is no revision to compare with",
                self.root.display()
            )
        })?;
        Ok(TreeSource::at(repo, rev, prefix)?)
    }

    /// The branch this one will be merged into (`[tool.migguard] upstream`,
    /// else the remote's default branch): its name and commit. `None` when
    /// there is no repository or no such branch.
    pub fn upstream(&self) -> Option<(String, migguard_git::Oid)> {
        let (repo, _) = self.git.as_ref()?;
        repo.upstream(self.settings.options.upstream.as_deref())
    }

    /// The repository's parse cache, when the project is in one.
    pub fn cache(&self) -> Option<&dyn project::ParseCache> {
        self.cache.as_ref().map(|c| c as &dyn project::ParseCache)
    }

    /// Save what was put in the cache since it was last saved (only a
    /// speed-up: a failure changes no answer).
    pub fn flush_cache(&self) {
        if let Some(cache) = &self.cache {
            let _ = cache.flush();
        }
    }

    pub fn analyze(&self) -> Result<Project> {
        let options = AnalyzeOptions {
            cache: self.cache.as_ref().map(|c| c as &dyn project::ParseCache),
            applied: None,
        };
        // The cache is saved once, when the workspace is done with (see
        // `Drop`): saving here would count the models modules, read later,
        // as unused and could prune them.
        project::analyze(self.source.as_ref(), &self.settings, &options)
            .with_context(|| format!("cannot read the project in {}", self.source.describe()))
    }
}

impl Drop for Workspace {
    /// Save what this run added to the parse cache, whatever it analysed.
    fn drop(&mut self) {
        self.flush_cache();
    }
}

/// The project directory relative to the repository's work tree, `/`-separated.
fn prefix_in_repo(repo: &Repo, root: &Path) -> Result<String> {
    let workdir = repo
        .workdir()
        .context("the repository is bare; give a path inside a work tree")?;
    let workdir = workdir.canonicalize().unwrap_or(workdir);
    let root = root
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", root.display()))?;
    let rel = root.strip_prefix(&workdir).with_context(|| {
        format!(
            "{} is outside the work tree {}",
            root.display(),
            workdir.display()
        )
    })?;
    Ok(rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/"))
}

/// `[tool.migguard]` from the project's pyproject.toml, read from the same
/// source as the migrations (so `--at REV` uses that commit's settings).
pub fn load_settings(source: &dyn ProjectSource, root: &Path) -> Result<Settings> {
    let name = "pyproject.toml";
    let display = root.join(name).display().to_string();
    let options = match source.read(name) {
        Ok(bytes) => {
            let text =
                String::from_utf8(bytes).with_context(|| format!("{display} is not UTF-8"))?;
            Options::from_pyproject(&text, &display)?
        }
        Err(_) => Options::default(),
    };
    let mut options = options;
    options.site_packages = site_packages(&options.site_packages, root);
    Ok(options.resolve(&display)?)
}

/// The `site-packages` directories to read libraries from, as absolute
/// paths: the configured ones (relative to the project root), else the
/// project's own virtualenv (`.venv`, `venv`, `env`), else the active one
/// (`$VIRTUAL_ENV`): one that belongs to the project wins over whatever
/// happens to be activated in the shell.
fn site_packages(configured: &[String], root: &Path) -> Vec<String> {
    let found: Vec<PathBuf> = if !configured.is_empty() {
        configured.iter().map(|dir| root.join(dir)).collect()
    } else {
        let active = std::env::var_os("VIRTUAL_ENV").map(PathBuf::from);
        [".venv", "venv", "env"]
            .map(|name| root.join(name))
            .into_iter()
            .chain(active)
            .flat_map(|venv| venv_site_packages(&venv))
            .take(1)
            .collect()
    };
    found
        .into_iter()
        .filter(|dir| dir.is_dir())
        .map(|dir| dir.display().to_string())
        .collect()
}

/// `lib/python3.X/site-packages` (or Windows' `Lib/site-packages`) of a
/// virtualenv.
fn venv_site_packages(venv: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(venv.join("lib"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("site-packages"))
        .filter(|dir| dir.is_dir())
        .collect();
    out.sort();
    let windows = venv.join("Lib").join("site-packages");
    if windows.is_dir() {
        out.push(windows);
    }
    out
}

/// Where the Django project lives in a repository, as a prefix of `top` (a
/// source of the whole work tree, read at the revision being judged): the
/// hooks run at the top of the work tree, the project may be below it.
///
/// `[tool.migguard] root` in the top-level `pyproject.toml` when set; else
/// the top when it has `manage.py` or a `[tool.migguard]` table; else the
/// directory of the shallowest `manage.py` when there is one such; else
/// the top.
pub fn project_prefix(top: &dyn ProjectSource) -> Result<String> {
    let display = "pyproject.toml";
    let configured = match top.read(display) {
        Ok(bytes) => {
            let text =
                String::from_utf8(bytes).with_context(|| format!("{display} is not UTF-8"))?;
            let configured_table = text.contains("[tool.migguard");
            let options = Options::from_pyproject(&text, display)?;
            match options.root {
                Some(root) => {
                    return Ok(root.trim_matches('/').trim_start_matches("./").to_owned())
                }
                None => configured_table,
            }
        }
        Err(_) => false,
    };
    let files = top.list().unwrap_or_default();
    if configured || files.iter().any(|f| f == "manage.py") {
        return Ok(String::new());
    }
    let mut candidates: Vec<&str> = files
        .iter()
        .filter_map(|f| f.strip_suffix("/manage.py"))
        .collect();
    let Some(depth) = candidates.iter().map(|d| d.matches('/').count()).min() else {
        return Ok(String::new());
    };
    candidates.retain(|d| d.matches('/').count() == depth);
    Ok(match candidates.as_slice() {
        [only] => (*only).to_owned(),
        _ => String::new(),
    })
}
