//! FNV-1a, 64 bits: a stable content hash for change detection and seeded choices (not for
//! security). One copy for the store's row hashes and the synthetic generator.

/// FNV-1a of `bytes`.
///
/// ```
/// assert_eq!(domania_core::hash::fnv1a(b""), 0xcbf2_9ce4_8422_2325);
/// assert_ne!(domania_core::hash::fnv1a(b"a"), domania_core::hash::fnv1a(b"b"));
/// ```
#[must_use]
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}
