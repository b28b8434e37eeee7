//! Feature ids to features, in 12 bytes a feature.
//!
//! A map from each id's text to its feature costs about 55 bytes a feature (the text on the
//! heap, the map's slack): 55 MB held for ever by a layer of a million parcels. The index keeps
//! instead a 64-bit hash of each id beside the feature's slot, sorted by hash. A lookup finds
//! the slots with the id's hash and the caller reads them to compare the ids themselves, which
//! it reads anyway to answer; a collision costs one more read, never a wrong answer.

use xxhash_rust::xxh3::xxh3_64;

#[derive(Debug, Default)]
pub(super) struct IdIndex {
    /// Sorted; `slots[i]` has an id with hash `hashes[i]`.
    hashes: Vec<u64>,
    slots: Vec<u32>,
}

pub(super) fn id_hash(id: &str) -> u64 {
    xxh3_64(id.as_bytes())
}

impl IdIndex {
    /// From `(id_hash(id), slot)` pairs, in any order.
    pub(super) fn new(mut pairs: Vec<(u64, u32)>) -> IdIndex {
        pairs.sort_unstable();
        let (hashes, slots) = pairs.into_iter().unzip();
        IdIndex { hashes, slots }
    }

    /// The slots whose id may be `id`, lowest first.
    pub(super) fn candidates(&self, id: &str) -> &[u32] {
        let h = id_hash(id);
        let start = self.hashes.partition_point(|&x| x < h);
        let end = start + self.hashes[start..].partition_point(|&x| x == h);
        &self.slots[start..end]
    }

    /// Runs of two or more slots whose ids share a hash: the only places two features can have
    /// the same id.
    pub(super) fn shared_hashes(&self) -> impl Iterator<Item = &[u32]> {
        let mut start = 0;
        std::iter::from_fn(move || {
            while start < self.hashes.len() {
                let h = self.hashes[start];
                let len = self.hashes[start..].partition_point(|&x| x == h);
                let run = &self.slots[start..start + len];
                start += len;
                if len > 1 {
                    return Some(run);
                }
            }
            None
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_the_slots_with_the_ids_hash_lowest_first() {
        let ids = ["a", "b", "c", "a"];
        let index = IdIndex::new(
            ids.iter()
                .enumerate()
                .rev()
                .map(|(slot, id)| (id_hash(id), slot as u32))
                .collect(),
        );
        assert_eq!(index.candidates("a"), &[0, 3]);
        assert_eq!(index.candidates("c"), &[2]);
        assert!(index.candidates("z").is_empty());
        assert_eq!(
            index.shared_hashes().collect::<Vec<_>>(),
            vec![&[0u32, 3][..]]
        );
        assert!(IdIndex::default().candidates("a").is_empty());
    }

    #[test]
    fn colliding_hashes_are_runs() {
        // Made-up hashes: slots 1 and 2 collide, 5, 6 and 7 too.
        let index = IdIndex::new(vec![(9, 7), (3, 1), (1, 0), (3, 2), (9, 5), (9, 6), (4, 4)]);
        let runs: Vec<&[u32]> = index.shared_hashes().collect();
        assert_eq!(runs, vec![&[1u32, 2][..], &[5, 6, 7][..]]);
    }
}
