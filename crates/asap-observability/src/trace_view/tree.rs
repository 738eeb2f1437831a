//! How hops connect, and the indented tree printed when they branch.
//!
//! The reference prints every trace as one chain, `a -> b (1ms) -> c (2ms)`, naming only the
//! first hop's sender; when one agent calls two others, that line names the wrong callers.
//! So the hops are printed as a chain exactly when they form one — every hop after the first
//! is sent by the previous hop's recipient — and as a tree otherwise.
//!
//! In the tree, a hop hangs under the latest earlier hop whose recipient is its sender (the
//! call that agent was handling when it sent it); a hop without such a hop is a root,
//! printed under its sender. Roots with the same sender share one top line, in the order
//! the senders first appear (indentation stops growing after 64 levels):
//!
//! ```text
//! coordinator
//! |-- research (15ms)
//! |   `-- writer (22ms)
//! `-- reviewer (?)
//! ```

use std::collections::HashMap;

use super::Hop;
use super::ascii::{label, short};

/// Levels of indentation at most; deeper hops are printed at this level.
const MAX_INDENT: usize = 64;

/// How the hops of a trace connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Every hop after the first is sent by the previous hop's recipient (also: no hop, or
    /// one): printed as the reference's one line.
    Chain,
    /// Some hop is sent by another agent than the previous hop's recipient: an agent called
    /// several others, or a trace has several roots. Printed as an indented tree.
    Tree,
}

impl Shape {
    /// The shape of `hops`, in their order.
    pub fn of(hops: &[Hop]) -> Self {
        if hops.windows(2).all(|w| w[1].sender == w[0].recipient) {
            Self::Chain
        } else {
            Self::Tree
        }
    }
}

/// The parent of each hop: the latest earlier hop whose recipient is its sender.
fn parents(hops: &[Hop]) -> Vec<Option<usize>> {
    let mut latest: HashMap<&str, usize> = HashMap::new();
    hops.iter()
        .enumerate()
        .map(|(i, hop)| {
            let parent = latest.get(hop.sender.as_str()).copied();
            latest.insert(&hop.recipient, i);
            parent
        })
        .collect()
}

/// The indented tree of `hops`, one line per hop and one per root sender, each ending with
/// a newline.
pub(super) fn render_tree(hops: &[Hop]) -> String {
    let mut roots: Vec<usize> = Vec::new();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); hops.len()];
    for (i, parent) in parents(hops).into_iter().enumerate() {
        match parent {
            Some(p) => children[p].push(i),
            None => roots.push(i),
        }
    }
    // Roots grouped by sender, the groups in the order their senders first appear.
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    for &root in &roots {
        let sender = hops[root].sender.as_str();
        let at = *group_of.entry(sender).or_insert_with(|| {
            groups.push((sender, Vec::new()));
            groups.len() - 1
        });
        groups[at].1.push(root);
    }
    let mut out = String::new();
    for (sender, own) in groups {
        out.push_str(short(sender));
        out.push('\n');
        // An explicit stack instead of recursion: a hostile log may nest thousands deep.
        let mut stack: Vec<(usize, String, bool)> = Vec::new();
        push_children(&mut stack, &own, "");
        while let Some((hop, prefix, last)) = stack.pop() {
            out.push_str(&prefix);
            out.push_str(if last { "`-- " } else { "|-- " });
            out.push_str(&label(&hops[hop]));
            out.push('\n');
            // Indentation stops growing at MAX_INDENT levels, so that the output of a deep
            // tree grows with its hops, not with their square.
            let below = if prefix.len() >= 4 * MAX_INDENT {
                prefix
            } else {
                format!("{prefix}{}", if last { "    " } else { "|   " })
            };
            push_children(&mut stack, &children[hop], &below);
        }
    }
    out
}

/// Pushes `nodes` so that the first is popped first, the last one marked as last.
fn push_children(stack: &mut Vec<(usize, String, bool)>, nodes: &[usize], prefix: &str) {
    for (n, &node) in nodes.iter().enumerate().rev() {
        stack.push((node, prefix.to_owned(), n + 1 == nodes.len()));
    }
}
