//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "migguard",
    version,
    about = "Keeps Django migrations and databases honest across git branches",
    long_about = "Keeps Django migrations and databases honest across git branches.\n\n\
                  Reads migration files statically (no Python is run) from the working tree, \
                  the staging area or any commit, builds the graph as Django's loader does, \
                  and reports problems with stable rule names and codes."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report problems in the project's migrations.
    Check(CheckArgs),
    /// Print the migration graph: leaves, conflicts, every migration and operation.
    Graph(GraphArgs),
    /// Explain a rule, or list every rule.
    Rule(RuleArgs),
    /// Write the merge migration `makemigrations --merge` would write, for every app with two leaves.
    Merge(MergeArgs),
    /// Move a branch's migrations after the other branch's leaf instead of merging.
    Rebase(RebaseArgs),
    /// Write migrations/max_migration.txt per app, so git itself shows migration conflicts.
    Lock(LockArgs),
    /// Show the destructive or irreversible operations of migrations and record their review.
    Review(ReviewArgs),
    /// Install migguard's git hooks in a repository (a previous hook keeps running).
    Install(InstallArgs),
    /// Remove migguard's git hooks and put back the hooks they replaced.
    Uninstall(InstallArgs),
    /// Compare the database with the branch: applied, unapplied and foreign migrations per app.
    Status(StatusArgs),
    /// Show what `manage.py migrate` would do now, or after switching to a revision.
    Plan(PlanArgs),
    /// Bring the database to the checked-out migrations: back it up (SQLite, PostgreSQL), unapply what only another branch has, migrate.
    Sync(SyncArgs),
    /// Per-branch copies of the database: list, save, restore, drop.
    Snapshot(SnapshotArgs),
}

/// Which revision of the project to read.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Read the project as of a commit (any revision git understands) instead of the working tree.
    #[arg(long, value_name = "REV", conflicts_with = "staged")]
    pub at: Option<String>,
    /// Read the staging area: what `git commit` would record.
    #[arg(long)]
    pub staged: bool,
    /// The project directory (holding pyproject.toml or manage.py); default: the current directory.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CheckFormat {
    Text,
    Concise,
    Json,
    Github,
    Sarif,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: CheckFormat,
    /// Also judge the operations of the migrations added or changed since
    /// REV (destructive, irreversible, unsafe, protocol rules), as pre-push does.
    #[arg(long, value_name = "REV", conflicts_with = "audit")]
    pub since: Option<String>,
    /// Judge the operations of every migration with the per-migration rules
    /// (what --since does for changed ones), e.g. to survey a whole project.
    #[arg(long)]
    pub audit: bool,
    /// Ask Django itself whether migrations are missing: run the project's
    /// `manage.py makemigrations --check --dry-run` and report its verdict
    /// (instead of the static autodetector's) as `missing-migration`.
    #[arg(long, conflicts_with_all = ["at", "staged"])]
    pub django: bool,
    /// The Python interpreter for --django (default: `[tool.migguard] python`, else `python3`).
    #[arg(long, value_name = "PATH", requires = "django")]
    pub python: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    Text,
    Json,
    Dot,
    Mermaid,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: GraphFormat,
    /// Only these apps (default: all).
    #[arg(long = "app", value_name = "APP")]
    pub apps: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RuleArgs {
    /// A rule name (`conflicting-migrations`) or code (`MG103`); omit to list all rules.
    pub rule: Option<String>,
}

/// A git hook migguard provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HookName {
    PreCommit,
    PreMergeCommit,
    PostCheckout,
    PrePush,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The git repository: any directory in it, a linked worktree or a submodule.
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub repo: PathBuf,
    /// The hooks, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "HOOK,...",
        default_value = "pre-commit,pre-merge-commit,post-checkout,pre-push"
    )]
    pub hooks: Vec<HookName>,
    /// Install only: where the hooks look for the `migguard-<hook>` binaries (then on PATH);
    /// default: the directory of this `migguard`.
    #[arg(long, value_name = "DIR")]
    pub bin_dir: Option<PathBuf>,
    /// Install only: replace an existing `<hook>.legacy`, and install into a `core.hooksPath`
    /// outside the repository.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Only these apps (default: every app with more than one leaf).
    #[arg(value_name = "APP")]
    pub apps: Vec<String>,
    /// Print the files instead of writing them.
    #[arg(long)]
    pub dry_run: bool,
    /// Merge even when both branches change the same field.
    #[arg(long)]
    pub force: bool,
    /// The project directory (default: the current directory).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub path: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct RebaseArgs {
    /// The app whose migrations conflict.
    pub app: String,
    /// A migration on the branch to move (its leaf or any migration of its
    /// chain). Default: ours, read from the conflict markers git left in
    /// max_migration.txt: in a merge the branch being merged into (the
    /// incoming branch is left as it is), in a rebase the commit being
    /// replayed. With no merge or rebase in progress (after `git rebase`
    /// finished), the leaf the upstream branch (or the branch's tracking
    /// branch) lacks. Migrations the upstream branch, the branch merged in or
    /// the commit rebased onto already have are never renamed.
    pub migration: Option<String>,
    /// Print what would change instead of changing it.
    #[arg(long)]
    pub dry_run: bool,
    /// The project directory (default: the current directory).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub path: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct LockArgs {
    /// Only these apps (default: all).
    #[arg(value_name = "APP")]
    pub apps: Vec<String>,
    /// Report stale or missing files instead of writing them (exit 1 when any).
    #[arg(long)]
    pub check: bool,
    /// With --check: also report apps that have no max_migration.txt yet.
    #[arg(long, requires = "check")]
    pub require: bool,
    /// The project directory (default: the current directory).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub path: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Migration files to review (default: those that differ from the upstream branch).
    #[arg(value_name = "MIGRATION")]
    pub files: Vec<std::path::PathBuf>,
    /// Record without asking (for scripts and CI).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// A note kept with the review: why the operation is safe.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// The project directory (default: the current directory).
    #[arg(long, value_name = "PATH", default_value = ".")]
    pub path: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Print every step, with the exact commands, and change nothing.
    #[arg(long)]
    pub plan: bool,
    /// The database (`sqlite:///path`, `postgres://...`, `mysql://...`); default: DATABASE_URL,
    /// `[tool.migguard] database`, else the Django settings.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// The Python interpreter that runs `manage.py`; default: `[tool.migguard] python`, else `python3`.
    #[arg(long, value_name = "PY")]
    pub python: Option<String>,
    /// Bring the database to this revision's migrations instead of the working tree's.
    #[arg(long, value_name = "REV")]
    pub to: Option<String>,
    /// Run even when a migration to unapply cannot be reversed (Django may still refuse).
    #[arg(long)]
    pub force: bool,
    /// Run without a backup first (required for MySQL/MariaDB, which cannot be copied automatically).
    #[arg(long)]
    pub no_backup: bool,
    /// The project directory (holding pyproject.toml or manage.py); default: the current directory.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    #[command(subcommand)]
    pub action: SnapshotAction,
    /// The database (`sqlite:///path`, `postgres://...`); default: DATABASE_URL,
    /// `[tool.migguard] database`, else the Django settings.
    #[arg(long, value_name = "URL", global = true)]
    pub database: Option<String>,
    /// The project directory (default: the current directory).
    #[arg(long, value_name = "PATH", default_value = ".", global = true)]
    pub path: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum SnapshotAction {
    /// List the snapshots of the project's database.
    List,
    /// Copy the database into a snapshot (replacing an older one of the same name).
    Save {
        /// Default: the current branch.
        name: Option<String>,
    },
    /// Replace the database by a snapshot (the current state is saved first).
    Restore {
        /// Default: the current branch.
        name: Option<String>,
    },
    /// Delete a snapshot.
    Drop {
        /// Default: the current branch.
        name: Option<String>,
    },
    /// Delete the `before-restore-*` snapshots `restore` saved, but the newest ones.
    Prune {
        /// How many of the newest to keep.
        #[arg(long, value_name = "N", default_value_t = 1)]
        keep: usize,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatusFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Output format: text (like `showmigrations`, then the findings) or json (the `check` contract).
    #[arg(long, value_enum, default_value = "text")]
    pub format: StatusFormat,
    /// The database (`sqlite:///path`, `postgres://...`, `mysql://...`); default: DATABASE_URL,
    /// `[tool.migguard] database`, else the Django settings.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// The project directory (holding pyproject.toml or manage.py); default: the current directory.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Plan for this revision's migrations (read from git) instead of the working tree's.
    #[arg(long, value_name = "REV")]
    pub to: Option<String>,
    /// The database (`sqlite:///path`, `postgres://...`, `mysql://...`); default: DATABASE_URL,
    /// `[tool.migguard] database`, else the Django settings.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// The project directory (holding pyproject.toml or manage.py); default: the current directory.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,
}
