//! Which instance owns what: rendezvous (highest random weight) hashing of each id over the
//! live instances. Every instance computes the same answer from the same list, nothing is
//! written while the list stays the same, and when an instance joins or leaves only the ids
//! it wins or held move (about 1/n of them).

use sha2::{Digest, Sha256};

/// The weight of `instance` for `id`: the first 8 bytes of SHA-256 over both (stable across
/// builds and machines, unlike `std`'s hasher).
fn weight(instance: &str, id: &str) -> u64 {
    let digest = Sha256::new()
        .chain_update(instance.as_bytes())
        .chain_update([0])
        .chain_update(id.as_bytes())
        .finalize();
    let mut first = [0; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// The owner of `id` among `live` (none when no instance is live); ties go to the smaller
/// name, so the answer never depends on the list's order.
pub fn owner<'a>(id: &str, live: &'a [String]) -> Option<&'a str> {
    live.iter()
        .map(|instance| (weight(instance, id), std::cmp::Reverse(instance)))
        .max()
        .map(|(_, std::cmp::Reverse(instance))| instance.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("instance-{i}")).collect()
    }

    #[test]
    fn no_instance_owns_nothing() {
        assert_eq!(owner("bot", &[]), None);
    }

    #[test]
    fn the_owner_does_not_depend_on_the_order_of_the_list() {
        let live = names(5);
        let mut reversed = live.clone();
        reversed.reverse();
        for i in 0..200 {
            let id = format!("bot{i}");
            assert_eq!(owner(&id, &live), owner(&id, &reversed));
        }
    }

    #[test]
    fn ids_spread_over_the_instances() {
        let live = names(4);
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            let owner = owner(&format!("bot{i}"), &live).expect("an owner");
            let index = live.iter().position(|l| l == owner).expect("a live one");
            counts[index] += 1;
        }
        // 1,000 expected each; a fair hash stays well within ±15%.
        assert!(
            counts.iter().all(|&c| (850..=1150).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn a_leaving_instance_moves_only_its_own_ids() {
        let live = names(4);
        let after: Vec<String> = live
            .iter()
            .filter(|l| *l != "instance-2")
            .cloned()
            .collect();
        let mut moved = 0;
        for i in 0..2000 {
            let id = format!("bot{i}");
            let before = owner(&id, &live).expect("an owner");
            let now = owner(&id, &after).expect("an owner");
            if before != "instance-2" {
                assert_eq!(before, now, "{id} moved though its owner stayed");
            } else {
                moved += 1;
            }
        }
        assert!(
            (350..=650).contains(&moved),
            "{moved} of 2000 were instance-2's"
        );
    }
}
