//! The migration graph, with the semantics of Django's `MigrationGraph`.
//!
//! Nodes are keyed by `(app, name)`. A dependency on a key that is not a
//! node creates a *dummy* node, exactly as Django does, so that squashed
//! migrations can later absorb it; dummies left after replacement are
//! missing dependencies. [`build`] mirrors `MigrationLoader.build_graph`.

mod build;

use std::collections::{BTreeMap, BTreeSet, HashSet};

pub use build::{build, AppliedSet, BuildInput, GraphBuild, MissingDependency};

use crate::model::MigrationKey;

/// What a node stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// A migration file of the project: its index in the analysed list.
    Migration(usize),
    /// A migration of an app outside the project (Django's contrib apps, a
    /// package from site-packages): known only by the key others depend on.
    External,
    /// A key depended on that no migration provides (yet).
    Dummy,
}

#[derive(Debug, Clone)]
struct Node {
    kind: NodeKind,
    parents: BTreeSet<MigrationKey>,
    children: BTreeSet<MigrationKey>,
}

/// A directed graph of migrations: an edge goes from a child to each parent
/// it depends on.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    nodes: BTreeMap<MigrationKey, Node>,
}

impl Graph {
    pub fn add_node(&mut self, key: MigrationKey, kind: NodeKind) {
        self.nodes.entry(key).or_insert(Node {
            kind,
            parents: BTreeSet::new(),
            children: BTreeSet::new(),
        });
    }

    /// `child` depends on `parent`. A missing endpoint becomes a dummy node.
    /// Returns whether `parent` had to be created as a dummy.
    pub fn add_dependency(&mut self, child: &MigrationKey, parent: &MigrationKey) -> bool {
        let mut created_dummy = false;
        for key in [child, parent] {
            if !self.nodes.contains_key(key) {
                self.add_node(key.clone(), NodeKind::Dummy);
                created_dummy |= key == parent;
            }
        }
        if let Some(node) = self.nodes.get_mut(child) {
            node.parents.insert(parent.clone());
        }
        if let Some(node) = self.nodes.get_mut(parent) {
            node.children.insert(child.clone());
        }
        created_dummy
    }

    pub fn contains(&self, key: &MigrationKey) -> bool {
        self.nodes.contains_key(key)
    }

    /// Whether `key` is a node other than a dummy (Django's `key in graph.nodes`).
    pub fn is_real(&self, key: &MigrationKey) -> bool {
        self.nodes
            .get(key)
            .is_some_and(|n| n.kind != NodeKind::Dummy)
    }

    pub fn kind(&self, key: &MigrationKey) -> Option<&NodeKind> {
        self.nodes.get(key).map(|n| &n.kind)
    }

    pub fn parents(&self, key: &MigrationKey) -> impl Iterator<Item = &MigrationKey> {
        self.nodes
            .get(key)
            .into_iter()
            .flat_map(|n| n.parents.iter())
    }

    pub fn children(&self, key: &MigrationKey) -> impl Iterator<Item = &MigrationKey> {
        self.nodes
            .get(key)
            .into_iter()
            .flat_map(|n| n.children.iter())
    }

    /// Real (non-dummy) nodes, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &MigrationKey> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.kind != NodeKind::Dummy)
            .map(|(k, _)| k)
    }

    /// Dummy nodes: dependencies nothing provides.
    pub fn dummies(&self) -> impl Iterator<Item = &MigrationKey> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.kind == NodeKind::Dummy)
            .map(|(k, _)| k)
    }

    /// Django's `root_nodes(app)`: real nodes of the app with no parent in the same app.
    pub fn root_nodes(&self, app: &str) -> Vec<MigrationKey> {
        self.nodes
            .iter()
            .filter(|(k, n)| {
                k.app == app
                    && n.kind != NodeKind::Dummy
                    && n.parents.iter().all(|p| p.app != k.app)
            })
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Django's `leaf_nodes(app)`: real nodes of the app with no child in the same app.
    pub fn leaf_nodes(&self, app: &str) -> Vec<MigrationKey> {
        self.nodes
            .iter()
            .filter(|(k, n)| {
                k.app == app
                    && n.kind != NodeKind::Dummy
                    && n.children.iter().all(|c| c.app != k.app)
            })
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Django's `remove_replaced_nodes`: the squashed migration takes the
    /// place of every replaced node, inheriting their outside edges.
    pub fn remove_replaced_nodes(&mut self, replacement: &MigrationKey, replaced: &[MigrationKey]) {
        if !self.nodes.contains_key(replacement) {
            return;
        }
        let replaced_set: BTreeSet<&MigrationKey> = replaced.iter().collect();
        for old in replaced {
            let Some(node) = self.nodes.remove(old) else {
                continue;
            };
            for child in &node.children {
                if let Some(c) = self.nodes.get_mut(child) {
                    c.parents.remove(old);
                }
                if !replaced_set.contains(child) {
                    self.link(child, replacement);
                }
            }
            for parent in &node.parents {
                if let Some(p) = self.nodes.get_mut(parent) {
                    p.children.remove(old);
                }
                if !replaced_set.contains(parent) {
                    self.link(replacement, parent);
                }
            }
        }
    }

    /// Django's `remove_replacement_node`: a partially applied squash is
    /// dropped; its children depend on the last replaced nodes instead.
    pub fn remove_replacement_node(
        &mut self,
        replacement: &MigrationKey,
        replaced: &[MigrationKey],
    ) {
        let Some(node) = self.nodes.remove(replacement) else {
            return;
        };
        let mut lasts: BTreeSet<MigrationKey> = replaced
            .iter()
            .filter(|k| self.nodes.contains_key(*k))
            .cloned()
            .collect();
        let parents_of_replaced: BTreeSet<MigrationKey> = lasts
            .iter()
            .flat_map(|k| self.parents(k).cloned().collect::<Vec<_>>())
            .collect();
        lasts.retain(|k| !parents_of_replaced.contains(k));
        for child in &node.children {
            if let Some(c) = self.nodes.get_mut(child) {
                c.parents.remove(replacement);
            }
            for last in &lasts {
                self.link(child, last);
            }
        }
        for parent in &node.parents {
            if let Some(p) = self.nodes.get_mut(parent) {
                p.children.remove(replacement);
            }
        }
    }

    fn link(&mut self, child: &MigrationKey, parent: &MigrationKey) {
        if let Some(c) = self.nodes.get_mut(child) {
            c.parents.insert(parent.clone());
        }
        if let Some(p) = self.nodes.get_mut(parent) {
            p.children.insert(child.clone());
        }
    }

    /// Django's `forwards_plan(target)`: every ancestor of `target` then
    /// `target`, in the order `migrate` applies them.
    pub fn forwards_plan(&self, target: &MigrationKey) -> Vec<MigrationKey> {
        self.iterative_dfs(target, true)
    }

    /// `forwards_plan` of each target in turn, each migration once: what
    /// Django's `_generate_plan(targets, at_end=True)` returns (the plan
    /// behind `loader.project_state()`), in one traversal. A migration
    /// already planned has all its ancestors planned too, so skipping it
    /// drops exactly what Django's filter `migration not in plan` drops.
    pub fn forwards_plan_all(&self, targets: &[MigrationKey]) -> Vec<MigrationKey> {
        let mut seen: HashSet<&MigrationKey> = HashSet::new();
        let mut out = Vec::new();
        for target in targets {
            let Some((start, _)) = self.nodes.get_key_value(target) else {
                continue;
            };
            let mut stack = vec![(start, false)];
            // Nodes expanded but not yet emitted: met again before they are
            // emitted only through a cycle (Django refuses cyclic graphs
            // before planning; migguard reports them and plans the rest).
            let mut open: HashSet<&MigrationKey> = HashSet::new();
            while let Some((key, processed)) = stack.pop() {
                if seen.contains(key) {
                    continue;
                }
                if processed {
                    seen.insert(key);
                    out.push(key.clone());
                    continue;
                }
                if !open.insert(key) {
                    continue;
                }
                stack.push((key, true));
                stack.extend(self.parents(key).map(|parent| (parent, false)));
            }
        }
        out
    }

    /// Django's `backwards_plan(target)`: `target`'s descendants, in the
    /// order `migrate` unapplies them, then `target`.
    pub fn backwards_plan(&self, target: &MigrationKey) -> Vec<MigrationKey> {
        self.iterative_dfs(target, false)
    }

    /// The same traversal as Django's `iterative_dfs`, so plans come out in
    /// the same order as Django's.
    fn iterative_dfs(&self, start: &MigrationKey, forwards: bool) -> Vec<MigrationKey> {
        let mut visited = Vec::new();
        let mut seen = BTreeSet::new();
        if !self.nodes.contains_key(start) {
            return visited;
        }
        let mut stack = vec![(start.clone(), false)];
        // See `forwards_plan_all`: a node met again before it is emitted is
        // met through a cycle.
        let mut open = BTreeSet::new();
        while let Some((key, processed)) = stack.pop() {
            if seen.contains(&key) {
                continue;
            }
            if processed {
                seen.insert(key.clone());
                visited.push(key);
                continue;
            }
            if !open.insert(key.clone()) {
                continue;
            }
            let next: Vec<MigrationKey> = if forwards {
                self.parents(&key).cloned().collect()
            } else {
                self.children(&key).cloned().collect()
            };
            stack.push((key, true));
            stack.extend(next.into_iter().map(|k| (k, false)));
        }
        visited
    }

    /// Every dependency cycle, each as the list of its nodes starting at the
    /// smallest key (Tarjan's strongly connected components; iterative, so
    /// no recursion on deep graphs). A self-dependency is a cycle of one.
    pub fn cycles(&self) -> Vec<Vec<MigrationKey>> {
        let keys: Vec<&MigrationKey> = self.nodes.keys().collect();
        let pos: BTreeMap<&MigrationKey, usize> =
            keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
        let succ: Vec<Vec<usize>> = keys
            .iter()
            .map(|k| {
                self.parents(k)
                    .filter_map(|p| pos.get(p).copied())
                    .collect()
            })
            .collect();
        let n = keys.len();
        let mut index = vec![usize::MAX; n];
        let mut low = vec![0; n];
        let mut on_stack = vec![false; n];
        let mut stack = Vec::new();
        let mut counter = 0;
        let mut out = Vec::new();
        for root in 0..n {
            if index[root] != usize::MAX {
                continue;
            }
            let mut work = vec![(root, 0usize)];
            while let Some(&mut (v, ref mut next)) = work.last_mut() {
                if *next == 0 && index[v] == usize::MAX {
                    index[v] = counter;
                    low[v] = counter;
                    counter += 1;
                    stack.push(v);
                    on_stack[v] = true;
                }
                if let Some(&w) = succ[v].get(*next) {
                    *next += 1;
                    if index[w] == usize::MAX {
                        work.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        component.push(keys[w].clone());
                        if w == v {
                            break;
                        }
                    }
                    let self_loop = succ[v].contains(&v);
                    if component.len() > 1 || self_loop {
                        component.sort();
                        out.push(component);
                    }
                }
            }
        }
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(app: &str, name: &str) -> MigrationKey {
        MigrationKey::new(app, name)
    }

    #[test]
    fn plans_follow_djangos_dfs_order() {
        let mut g = Graph::default();
        for name in ["0001", "0002", "0003"] {
            g.add_node(k("a", name), NodeKind::Migration(0));
        }
        g.add_node(k("b", "0001"), NodeKind::Migration(0));
        g.add_dependency(&k("a", "0002"), &k("a", "0001"));
        g.add_dependency(&k("a", "0003"), &k("a", "0002"));
        g.add_dependency(&k("a", "0003"), &k("b", "0001"));
        let plan = g.forwards_plan(&k("a", "0003"));
        // Django pushes sorted parents, so the largest parent is taken first.
        assert_eq!(
            plan,
            vec![
                k("b", "0001"),
                k("a", "0001"),
                k("a", "0002"),
                k("a", "0003")
            ]
        );
        assert_eq!(
            g.backwards_plan(&k("a", "0001")),
            vec![k("a", "0003"), k("a", "0002"), k("a", "0001")]
        );
        assert_eq!(g.leaf_nodes("a"), vec![k("a", "0003")]);
        assert_eq!(g.root_nodes("a"), vec![k("a", "0001")]);
    }

    /// A pseudo-random DAG over three apps, where later nodes depend on
    /// earlier ones of any app.
    fn tangled(seed: u64, n: usize) -> Graph {
        let mut g = Graph::default();
        let key = |i: usize| k(["a", "b", "c"][i % 3], &format!("{i:04}"));
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        for i in 0..n {
            g.add_node(key(i), NodeKind::Migration(i));
            for _ in 0..next() % 3 {
                if i > 0 {
                    g.add_dependency(&key(i), &key(next() % i));
                }
            }
        }
        g
    }

    #[test]
    fn one_traversal_plans_what_djangos_generate_plan_does() {
        for seed in 0..20 {
            let g = tangled(seed, 60);
            let mut targets: Vec<MigrationKey> = g.keys().step_by(7).cloned().collect();
            targets.reverse();
            // `_generate_plan(targets, at_end=True)`, literally.
            let mut django: Vec<MigrationKey> = Vec::new();
            for target in &targets {
                for key in g.forwards_plan(target) {
                    if !django.contains(&key) {
                        django.push(key);
                    }
                }
            }
            assert_eq!(g.forwards_plan_all(&targets), django, "seed {seed}");
        }
    }

    #[test]
    fn plans_end_on_a_cyclic_graph() {
        let mut g = Graph::default();
        for name in ["1", "2", "3", "4"] {
            g.add_node(k("a", name), NodeKind::Migration(0));
        }
        g.add_dependency(&k("a", "2"), &k("a", "1"));
        g.add_dependency(&k("a", "2"), &k("a", "3"));
        g.add_dependency(&k("a", "3"), &k("a", "2"));
        g.add_dependency(&k("a", "4"), &k("a", "3"));
        let plan = g.forwards_plan(&k("a", "4"));
        assert_eq!(plan.len(), 4, "{plan:?}");
        assert_eq!(plan.last(), Some(&k("a", "4")));
        assert_eq!(g.forwards_plan_all(&[k("a", "4")]), plan);
        assert_eq!(g.backwards_plan(&k("a", "1")).len(), 4);
    }

    #[test]
    fn cycles_are_found_iteratively() {
        let mut g = Graph::default();
        for name in ["1", "2", "3"] {
            g.add_node(k("a", name), NodeKind::Migration(0));
        }
        g.add_dependency(&k("a", "2"), &k("a", "1"));
        g.add_dependency(&k("a", "3"), &k("a", "2"));
        g.add_dependency(&k("a", "1"), &k("a", "3"));
        assert_eq!(
            g.cycles(),
            vec![vec![k("a", "1"), k("a", "2"), k("a", "3")]]
        );

        let mut long = Graph::default();
        for i in 0..50_000 {
            long.add_node(k("a", &format!("{i:06}")), NodeKind::Migration(0));
            if i > 0 {
                long.add_dependency(
                    &k("a", &format!("{i:06}")),
                    &k("a", &format!("{:06}", i - 1)),
                );
            }
        }
        assert!(long.cycles().is_empty());
        assert_eq!(long.forwards_plan(&k("a", "049999")).len(), 50_000);
    }

    #[test]
    fn squash_replacement_rewires_edges() {
        let mut g = Graph::default();
        for name in ["0001", "0002", "0003", "0001_squashed_0002"] {
            g.add_node(k("a", name), NodeKind::Migration(0));
        }
        g.add_dependency(&k("a", "0002"), &k("a", "0001"));
        g.add_dependency(&k("a", "0003"), &k("a", "0002"));
        g.remove_replaced_nodes(
            &k("a", "0001_squashed_0002"),
            &[k("a", "0001"), k("a", "0002")],
        );
        assert_eq!(
            g.forwards_plan(&k("a", "0003")),
            vec![k("a", "0001_squashed_0002"), k("a", "0003")]
        );
        assert!(!g.contains(&k("a", "0001")));
    }
}
