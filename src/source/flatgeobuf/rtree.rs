//! The packed R-tree of a layer, held without its leaves.
//!
//! A FlatGeobuf index has one 40-byte leaf per feature; the slots already keep each feature's
//! box, so holding the leaves again would double the index's memory (about 43 MB for a
//! million features). Only the inner nodes are kept, one for every `node_size` below (under
//! 3 MB then), and a search reads the leaves' boxes from the slots.
//!
//! Layout, as the FlatGeobuf specification has it: nodes numbered root first, level by level,
//! the leaves last; each inner node holds the position of its first child, its children being
//! the next `node_size` nodes of the level below (fewer at the end of a level).

use super::Slot;
use std::ops::Range;

#[derive(Debug)]
pub(super) struct RTree {
    node_size: usize,
    /// The inner nodes (every node but the leaves), in layout order.
    inner: Vec<Inner>,
    /// Node positions of each level, root first, leaves last.
    levels: Vec<Range<usize>>,
}

#[derive(Debug, Clone, Copy)]
struct Inner {
    bbox: [f64; 4],
    first_child: usize,
}

/// Node positions of each level of a tree of `count` leaves, root first, leaves last.
pub(super) fn level_ranges(count: usize, node_size: usize) -> Vec<Range<usize>> {
    // Sizes, leaves first: a level of n nodes has n / node_size parents (rounded up); even a
    // single leaf has a root above it.
    let mut sizes = vec![count];
    let mut n = count;
    while n > 1 || sizes.len() == 1 {
        n = n.div_ceil(node_size);
        sizes.push(n);
    }
    let mut start = 0;
    sizes
        .iter()
        .rev()
        .map(|&size| {
            start += size;
            start - size..start
        })
        .collect()
}

fn intersects(a: &[f64; 4], b: &[f64; 4]) -> bool {
    a[0] <= b[2] && a[1] <= b[3] && a[2] >= b[0] && a[3] >= b[1]
}

fn union(a: [f64; 4], b: &[f64; 4]) -> [f64; 4] {
    [
        a[0].min(b[0]),
        a[1].min(b[1]),
        a[2].max(b[2]),
        a[3].max(b[3]),
    ]
}

impl RTree {
    /// The inner nodes of a file's index: `inner` holds their 40-byte records (box as four
    /// little-endian f64, then the first child's position as u64), already checked to point
    /// into the level below (`decode::check_index`).
    pub(super) fn from_file(inner: &[u8], count: usize, node_size: usize) -> RTree {
        let f = |b: &[u8], at: usize| f64::from_le_bytes(b[at..at + 8].try_into().expect("8"));
        let inner = inner
            .chunks_exact(super::NODE_ITEM_LEN)
            .map(|b| Inner {
                bbox: [f(b, 0), f(b, 8), f(b, 16), f(b, 24)],
                first_child: u64::from_le_bytes(b[32..40].try_into().expect("8")) as usize,
            })
            .collect();
        RTree {
            node_size,
            inner,
            levels: level_ranges(count, node_size),
        }
    }

    /// A tree over the slots in their order (for a file without an index).
    pub(super) fn build(slots: &[Slot], node_size: usize) -> RTree {
        let levels = level_ranges(slots.len(), node_size);
        let leaves = levels.last().expect("a leaf level").clone();
        let mut inner = vec![
            Inner {
                bbox: [
                    f64::INFINITY,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    f64::NEG_INFINITY
                ],
                first_child: 0,
            };
            leaves.start
        ];
        // From the level above the leaves up to the root, each node over its children.
        for l in (0..levels.len() - 1).rev() {
            let below = levels[l + 1].clone();
            for (k, parent) in levels[l].clone().enumerate() {
                let first = below.start + k * node_size;
                let mut bbox = inner[parent].bbox;
                for child in first..(first + node_size).min(below.end) {
                    let b = if child >= leaves.start {
                        &slots[child - leaves.start].bbox
                    } else {
                        &inner[child].bbox
                    };
                    bbox = union(bbox, b);
                }
                inner[parent] = Inner {
                    bbox,
                    first_child: first,
                };
            }
        }
        RTree {
            node_size,
            inner,
            levels,
        }
    }

    /// The box of every feature.
    pub(super) fn extent(&self) -> [f64; 4] {
        self.inner[0].bbox
    }

    /// The slots whose box meets `bbox` (edges included), in ascending order.
    pub(super) fn search(&self, slots: &[Slot], bbox: [f64; 4]) -> Vec<u32> {
        let mut found = Vec::new();
        self.visit(slots, bbox, |slot| found.push(slot));
        found.sort_unstable();
        found
    }

    /// Calls `found` with each slot whose box meets `bbox`, in the tree's order: for a caller
    /// that keeps few of a million hits (a tile at a low zoom), sorting them all would cost
    /// more than the search.
    pub(super) fn visit(&self, slots: &[Slot], bbox: [f64; 4], mut found: impl FnMut(u32)) {
        let leaves = self.levels.last().expect("a leaf level").start;
        // (first node of a run of siblings, its level)
        let mut stack = vec![(0usize, 0usize)];
        while let Some((first, level)) = stack.pop() {
            let end = (first + self.node_size).min(self.levels[level].end);
            for node in first..end {
                if node >= leaves {
                    let slot = node - leaves;
                    if intersects(&bbox, &slots[slot].bbox) {
                        found(slot as u32);
                    }
                } else if intersects(&bbox, &self.inner[node].bbox) {
                    stack.push((self.inner[node].first_child, level + 1));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(x: f64, y: f64) -> Slot {
        Slot {
            offset: 0,
            len: 1,
            bbox: [x, y, x + 1.0, y + 1.0],
        }
    }

    #[test]
    fn levels_follow_the_specification() {
        assert_eq!(level_ranges(1, 16), vec![0..1, 1..2]);
        assert_eq!(level_ranges(16, 16), vec![0..1, 1..17]);
        assert_eq!(level_ranges(17, 16), vec![0..1, 1..3, 3..20]);
        assert_eq!(level_ranges(5, 2), vec![0..1, 1..3, 3..6, 6..11]);
    }

    #[test]
    fn a_search_finds_exactly_the_boxes_that_meet_it() {
        // A 40 x 25 grid of unit boxes, in an order that is not spatial.
        let slots: Vec<Slot> = (0..1000)
            .map(|i| {
                let k = (i * 7919) % 1000;
                slot((k % 40) as f64, (k / 40) as f64)
            })
            .collect();
        for node_size in [2, 3, 16] {
            let tree = RTree::build(&slots, node_size);
            assert_eq!(tree.extent(), [0.0, 0.0, 40.0, 25.0]);
            for q in [
                [3.5, 4.5, 7.2, 6.0],
                [-5.0, -5.0, 0.0, 0.0],
                [39.5, 24.5, 100.0, 100.0],
                [10.0, 10.0, 10.0, 10.0],
                [50.0, 50.0, 60.0, 60.0],
            ] {
                let expected: Vec<u32> = (0..slots.len() as u32)
                    .filter(|&i| intersects(&q, &slots[i as usize].bbox))
                    .collect();
                assert_eq!(
                    tree.search(&slots, q),
                    expected,
                    "{q:?}, node size {node_size}"
                );
            }
        }
    }

    #[test]
    fn a_tree_read_from_a_file_searches_like_one_built_here() {
        let slots: Vec<Slot> = (0..37).map(|i| slot(i as f64, (i % 5) as f64)).collect();
        let built = RTree::build(&slots, 4);
        let mut bytes = Vec::new();
        for n in &built.inner {
            for v in n.bbox {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
            bytes.extend_from_slice(&(n.first_child as u64).to_le_bytes());
        }
        let read = RTree::from_file(&bytes, slots.len(), 4);
        let q = [3.0, 1.0, 12.5, 2.0];
        assert_eq!(read.search(&slots, q), built.search(&slots, q));
        assert!(!read.search(&slots, q).is_empty());
    }
}
