//! The Merkle tree over a pack's files, as RFC 6962 (Certificate Transparency) defines it:
//! leaf = SHA-256(0x00 ‖ data), node = SHA-256(0x01 ‖ left ‖ right), split at the largest
//! power of two below n. A leaf's data is the file's SHA256SUMS line, newline included.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

pub fn leaf(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

fn node(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root over `leaves` in order; the empty tree is SHA-256 of nothing.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            node(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn split_is_the_largest_power_of_two_below_n() {
        let l: Vec<Hash> = (0u8..5).map(|i| leaf(&[i])).collect();
        // RFC 6962 §2.1: for 5 leaves the tree is (((0,1),(2,3)),4).
        let want = node(&node(&node(&l[0], &l[1]), &node(&l[2], &l[3])), &l[4]);
        assert_eq!(root(&l), want);
        assert_eq!(root(&l[..1]), l[0]);
    }

    proptest! {
        #[test]
        fn any_changed_reordered_or_dropped_leaf_changes_the_root(
            data in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..8), 1..40),
            pick in any::<prop::sample::Index>(),
        ) {
            let leaves: Vec<Hash> = data.iter().map(|d| leaf(d)).collect();
            let r = root(&leaves);
            let i = pick.index(leaves.len());
            let mut changed = leaves.clone();
            changed[i][0] ^= 1;
            prop_assert_ne!(root(&changed), r);
            let mut dropped = leaves.clone();
            dropped.remove(i);
            prop_assert_ne!(root(&dropped), r);
            if leaves.len() > 1 && leaves[0] != leaves[leaves.len() - 1] {
                let mut swapped = leaves.clone();
                let last = swapped.len() - 1;
                swapped.swap(0, last);
                prop_assert_ne!(root(&swapped), r);
            }
        }
    }
}
