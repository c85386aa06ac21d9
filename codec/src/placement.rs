//! Placement hashes: which erasure set holds an object, and which drive of the set holds
//! which shard.
//!
//! Both are MinIO's, bit for bit, because they are part of the on-disk layout: an object
//! written under one formula is only found again under the same one.
//!
//! * [`sip_mod`] (`SIPMOD+PARITY` in format.json): SipHash-2-4 of the object name keyed with
//!   the deployment id, modulo the set count. Keyed so that the spread cannot be steered
//!   by choosing names, and stable for the life of the deployment.
//! * [`hash_order`]: CRC32 (IEEE) of `bucket/object` picks a rotation of the shards over the
//!   set's drives, so the data shards (read on every GET) do not always land on the same
//!   drives.

use siphasher::sip::SipHasher24;

/// MinIO's `hashOrder`: the shard each drive of a set holds for `key`.
///
/// `result.len() == count`; `result[drive]` is the 0-based shard index that drive `drive`
/// holds. With `start = crc32_ieee(key) % count`, drive `d` holds shard
/// `(start + d + 1) % count` (MinIO keeps the same numbers 1-based). A permutation of
/// `0..count`; empty when `count == 0`.
pub fn hash_order(key: &str, count: usize) -> Vec<usize> {
    if count == 0 {
        return Vec::new();
    }
    let start = crc32fast::hash(key.as_bytes()) as usize % count;
    (1..=count).map(|i| (start + i) % count).collect()
}

/// MinIO's `sipHashMod`: SipHash-2-4 of `key` keyed with the 16-byte deployment id (read as
/// two little-endian 64-bit words), modulo `count`. Always `< count`.
pub fn sip_mod(key: &str, count: usize, deployment_id: &[u8; 16]) -> usize {
    assert!(count > 0, "sip_mod over zero sets");
    let sum = SipHasher24::new_with_key(deployment_id).hash(key.as_bytes());
    (sum % count as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_order_known_keys() {
        // Worked by hand from the formula: crc32("") = 0, crc32("a") = 0xe8b7be43,
        // crc32("123456789") = 0xcbf43926 (the CRC-32 check value).
        // "" over 4: start 0 -> [1, 2, 3, 0].
        assert_eq!(hash_order("", 4), vec![1, 2, 3, 0]);
        // "a" over 5: 0xe8b7be43 = 3904355907, % 5 = 2 -> [3, 4, 0, 1, 2].
        assert_eq!(hash_order("a", 5), vec![3, 4, 0, 1, 2]);
        // "123456789" over 16: 0xcbf43926 % 16 = 6 -> [7, 8, ..., 15, 0, ..., 6].
        let want: Vec<usize> = (7..16).chain(0..7).collect();
        assert_eq!(hash_order("123456789", 16), want);
        // "123456789" over 6: 3421780262 % 6 = 2 -> [3, 4, 5, 0, 1, 2].
        assert_eq!(hash_order("123456789", 6), vec![3, 4, 5, 0, 1, 2]);
        // One drive holds the only shard.
        assert_eq!(hash_order("bucket/object", 1), vec![0]);
        assert!(hash_order("bucket/object", 0).is_empty());
    }

    #[test]
    fn hash_order_is_a_permutation() {
        for count in 1..=32 {
            for key in [
                "",
                "a",
                "bucket/object",
                "photos/2024/01/img_0001.jpg",
                "ü/ß",
            ] {
                let mut order = hash_order(key, count);
                assert_eq!(order.len(), count);
                order.sort_unstable();
                assert_eq!(order, (0..count).collect::<Vec<_>>(), "{key} over {count}");
            }
        }
    }

    #[test]
    fn sip_mod_known_answer() {
        // SipHash-2-4 reference vector (Aumasson & Bernstein, appendix A): key 00..0f,
        // message 00..0e, output 0xa129ca6149be45e5.
        let id: [u8; 16] = std::array::from_fn(|i| i as u8);
        let key: String = (0u8..15).map(char::from).collect();
        let sum = 0xa129_ca61_49be_45e5u64;
        for count in [1usize, 2, 3, 7, 16, 1000] {
            assert_eq!(sip_mod(&key, count, &id), (sum % count as u64) as usize);
        }
    }

    #[test]
    fn sip_mod_is_stable_and_in_range() {
        let id = *b"minnow-deploy-id";
        let other = *b"another-deploy!!";
        let mut moved = 0;
        for i in 0..200 {
            let key = format!("bucket/object-{i}");
            for count in [1usize, 2, 3, 8, 31] {
                let set = sip_mod(&key, count, &id);
                assert!(set < count);
                assert_eq!(set, sip_mod(&key, count, &id));
            }
            moved += usize::from(sip_mod(&key, 8, &id) != sip_mod(&key, 8, &other));
        }
        // The deployment id is really part of the key.
        assert!(moved > 100, "only {moved} of 200 keys moved");
    }
}
