//! The on-disk parse cache.

use std::path::Path;

use migguard_core::model::MigrationKey;
use migguard_core::parse::{parse_migration, ParsedMigration};
use migguard_core::project::ParseCache;
use migguard_git::DiskCache;
use tempfile::TempDir;

fn parsed() -> ParsedMigration {
    parse_migration(
        &MigrationKey::new("blog", "0001_initial"),
        "blog/migrations/0001_initial.py",
        "blog.migrations",
        b"from django.db import migrations\nclass Migration(migrations.Migration):\n    operations = []\n",
    )
}

fn pack(dir: &Path) -> std::path::PathBuf {
    DiskCache::open(dir).path().to_path_buf()
}

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn round_trips_through_the_disk() {
    let tmp = TempDir::new().expect("tmp");
    let value = parsed();
    assert!(value.migration.is_some());

    let cache = DiskCache::open(tmp.path());
    assert_eq!(cache.get("k1"), None);
    cache.put("k1", &value);
    assert_eq!(cache.get("k1").as_ref(), Some(&value));
    cache.flush().expect("flush");
    assert!(cache.path().starts_with(tmp.path().join("migguard/cache")));

    let again = DiskCache::open(tmp.path());
    assert_eq!(again.get("k1").as_ref(), Some(&value));
    assert_eq!(again.get("k2"), None);
    // Nothing new: flushing writes nothing.
    let before = std::fs::metadata(again.path())
        .expect("pack")
        .modified()
        .expect("mtime");
    std::thread::sleep(std::time::Duration::from_millis(20));
    again.flush().expect("flush");
    let after = std::fs::metadata(again.path())
        .expect("pack")
        .modified()
        .expect("mtime");
    assert_eq!(before, after);
}

#[test]
fn a_corrupt_pack_is_ignored_and_rewritten() {
    let tmp = TempDir::new().expect("tmp");
    let value = parsed();
    let path = pack(tmp.path());
    std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");

    for garbage in [
        &b"\xff\xfe not utf-8 \x00\x01"[..],
        b"",
        b"some other format\nk1\t{}\n",
        b"migguard-parse-cache 1\nk1\t{\"migration\": tru",
        b"migguard-parse-cache 1\nk1\t{\"migration\": 3}\nk1-no-tab\n\t\n",
    ] {
        std::fs::write(&path, garbage).expect("write");
        let cache = DiskCache::open(tmp.path());
        assert_eq!(cache.get("k1"), None, "{garbage:?}");
        cache.put("k1", &value);
        cache.flush().expect("flush");
        let reread = DiskCache::open(tmp.path());
        assert_eq!(reread.get("k1").as_ref(), Some(&value), "{garbage:?}");
    }

    // One bad line does not spoil the others.
    let good = std::fs::read_to_string(&path).expect("pack");
    std::fs::write(&path, format!("{good}k2\t[1, 2\n")).expect("write");
    let cache = DiskCache::open(tmp.path());
    assert_eq!(cache.get("k2"), None);
    assert_eq!(cache.get("k1").as_ref(), Some(&value));

    // A directory where the pack should be: lookups miss, flush reports.
    let tmp2 = TempDir::new().expect("tmp");
    std::fs::create_dir_all(pack(tmp2.path())).expect("mkdir");
    let cache = DiskCache::open(tmp2.path());
    assert_eq!(cache.get("k1"), None);
    cache.put("k1", &value);
    assert!(cache.flush().is_err());
}

#[test]
fn writes_atomically_and_merges_with_other_writers() {
    let tmp = TempDir::new().expect("tmp");
    let value = parsed();

    let first = DiskCache::open(tmp.path());
    let second = DiskCache::open(tmp.path());
    assert_eq!(first.get("a"), None);
    assert_eq!(second.get("b"), None);
    first.put("a", &value);
    second.put("b", &value);
    first.flush().expect("flush");
    #[cfg(unix)]
    let inode = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(first.path()).expect("pack").ino()
    };
    second.flush().expect("flush");
    #[cfg(unix)]
    {
        // Replaced by a rename, not rewritten in place: a concurrent reader
        // keeps the whole old pack.
        use std::os::unix::fs::MetadataExt;
        assert_ne!(std::fs::metadata(second.path()).expect("pack").ino(), inode);
    }
    // No temporary file is left behind.
    let dir = first.path().parent().expect("dir");
    assert_eq!(dir_entries(dir), vec!["parse-v1.pack"]);

    let merged = DiskCache::open(tmp.path());
    assert_eq!(merged.get("a").as_ref(), Some(&value));
    assert_eq!(merged.get("b").as_ref(), Some(&value));
}

#[test]
fn unused_entries_are_pruned_when_the_pack_grows() {
    let tmp = TempDir::new().expect("tmp");
    let value = parsed();
    let cache = DiskCache::open(tmp.path());
    for i in 0..3000 {
        cache.put(&format!("old{i}"), &value);
    }
    cache.flush().expect("flush");

    let cache = DiskCache::open(tmp.path());
    for i in 0..10 {
        assert!(cache.get(&format!("old{i}")).is_some());
    }
    cache.put("new", &value);
    cache.flush().expect("flush");

    let cache = DiskCache::open(tmp.path());
    assert!(cache.get("old3").is_some(), "used entries are kept");
    assert!(cache.get("new").is_some(), "new entries are kept");
    assert!(cache.get("old2999").is_none(), "unused entries are dropped");
    let lines = std::fs::read_to_string(cache.path())
        .expect("pack")
        .lines()
        .count();
    assert_eq!(lines, 1 + 11);
}

/// A run that read nothing (an analysis that stopped early) prunes
/// nothing, however large the pack.
#[test]
fn a_run_that_read_nothing_keeps_the_pack() {
    let tmp = TempDir::new().expect("tmp");
    let value = parsed();
    let cache = DiskCache::open(tmp.path());
    for i in 0..3000 {
        cache.put(&format!("old{i}"), &value);
    }
    cache.flush().expect("flush");

    DiskCache::open(tmp.path()).flush().expect("flush");

    let cache = DiskCache::open(tmp.path());
    assert!(cache.get("old0").is_some());
    assert!(cache.get("old2999").is_some());
}

#[test]
fn keys_that_do_not_fit_a_line_are_not_cached() {
    let tmp = TempDir::new().expect("tmp");
    let cache = DiskCache::open(tmp.path());
    cache.put("bad\tkey", &parsed());
    cache.put("bad\nkey", &parsed());
    assert_eq!(cache.get("bad\tkey"), None);
    cache.flush().expect("flush");
    assert!(
        !cache.path().exists()
            || std::fs::read_to_string(cache.path())
                .expect("pack")
                .lines()
                .count()
                == 1
    );
}

/// Models modules share the pack with migrations, under keys of their own.
#[test]
fn models_modules_round_trip_beside_migrations() {
    use migguard_core::parse::models::read_module;
    use migguard_core::project::module_cache_key;

    let tmp = TempDir::new().expect("tmp");
    let text = b"from django.db import models\n\n\nclass Post(models.Model):\n    title = models.CharField(max_length=200)\n";
    let module = read_module(text, "blog.models", "blog");
    assert!(module.is_ok());
    let broken = read_module(b"class Post(:\n", "blog.models", "blog");
    assert!(broken.is_err());
    let key = module_cache_key("0123abcd", "blog.models", "blog");
    // The same content under another module name is another entry.
    assert_ne!(key, module_cache_key("0123abcd", "shop.models", "shop"));
    let broken_key = module_cache_key("4567ef01", "blog.models", "blog");

    let cache = DiskCache::open(tmp.path());
    assert_eq!(cache.get_module(&key), None);
    cache.put("k1", &parsed());
    cache.put_module(&key, &module);
    cache.put_module(&broken_key, &broken);
    cache.flush().expect("flush");

    let again = DiskCache::open(tmp.path());
    assert_eq!(again.get_module(&key), Some(module));
    assert_eq!(again.get_module(&broken_key), Some(broken));
    assert_eq!(again.get("k1"), Some(parsed()));
    // A migration's key does not read as a module, nor the reverse.
    assert_eq!(again.get_module("k1"), None);
    assert_eq!(again.get(&key), None);
}
