//! A model state's fields: in Django's order, found by name in constant
//! time (a migration may add tens of thousands of fields to one model).

use std::collections::HashMap;
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Field;

/// `(name, field)` pairs in order, with an index by name. Reads go through
/// the slice it derefs to; changes through its methods, which keep the
/// index.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    items: Vec<(String, Field)>,
    index: HashMap<String, usize>,
}

impl Fields {
    pub fn new() -> Fields {
        Fields::default()
    }

    pub fn get(&self, name: &str) -> Option<&Field> {
        self.index.get(name).map(|&i| &self.items[i].1)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Field> {
        let i = *self.index.get(name)?;
        Some(&mut self.items[i].1)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// Django's `fields[name] = field`: replaces in place, else appends.
    pub fn set(&mut self, name: &str, field: Field) {
        match self.index.get(name) {
            Some(&i) => self.items[i].1 = field,
            None => {
                self.index.insert(name.to_owned(), self.items.len());
                self.items.push((name.to_owned(), field));
            }
        }
    }

    /// Django's `fields.pop(name)`.
    pub fn remove(&mut self, name: &str) -> Option<Field> {
        let i = self.index.remove(name)?;
        let (_, field) = self.items.remove(i);
        for (_, slot) in self.index.iter_mut() {
            if *slot > i {
                *slot -= 1;
            }
        }
        Some(field)
    }

    /// Every field's value, in order, to change in place (names stay).
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Field> {
        self.items.iter_mut().map(|(_, f)| f)
    }

    /// Keep the fields `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &Field) -> bool) {
        self.items.retain(|(n, f)| keep(n, f));
        self.reindex();
    }

    fn reindex(&mut self) {
        self.index = self
            .items
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.clone(), i))
            .collect();
    }
}

impl Deref for Fields {
    type Target = [(String, Field)];

    fn deref(&self) -> &Self::Target {
        &self.items
    }
}

impl PartialEq for Fields {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl FromIterator<(String, Field)> for Fields {
    fn from_iter<I: IntoIterator<Item = (String, Field)>>(iter: I) -> Self {
        let mut out = Fields::new();
        for (name, field) in iter {
            out.set(&name, field);
        }
        out
    }
}

impl From<Vec<(String, Field)>> for Fields {
    fn from(items: Vec<(String, Field)>) -> Self {
        items.into_iter().collect()
    }
}

impl<'a> IntoIterator for &'a Fields {
    type Item = &'a (String, Field);
    type IntoIter = std::slice::Iter<'a, (String, Field)>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.items.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<(String, Field)>::deserialize(deserializer).map(Fields::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Call, Ref};

    fn field(path: &str) -> Field {
        Call {
            func: Ref {
                written: path.to_owned(),
                path: path.to_owned(),
            },
            args: Vec::new(),
            kwargs: Vec::new(),
        }
    }

    #[test]
    fn order_and_lookup_survive_changes() {
        let mut fields: Fields = vec![
            ("id".to_owned(), field("a")),
            ("title".to_owned(), field("b")),
            ("body".to_owned(), field("c")),
        ]
        .into();
        fields.set("title", field("b2"));
        assert_eq!(fields.get("title"), Some(&field("b2")));
        assert_eq!(fields.remove("id"), Some(field("a")));
        assert_eq!(fields.get("body"), Some(&field("c")));
        fields.set("id", field("a2"));
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["title", "body", "id"]);
        fields.retain(|n, _| n != "body");
        assert_eq!(fields.get("id"), Some(&field("a2")));
        assert!(!fields.contains("body"));
    }
}
