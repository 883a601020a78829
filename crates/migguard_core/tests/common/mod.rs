//! Helpers the core's integration tests share.

use migguard_core::source::MemorySource;

/// A project whose `manage.py` names `config.settings`, with that module.
pub fn with_settings_module(settings: &str) -> MemorySource {
    MemorySource::new("test")
        .with(
            "manage.py",
            "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n",
        )
        .with("config/__init__.py", "")
        .with("config/settings.py", settings.to_owned())
}
