//! The simd-json fast path, bounded in nesting depth.
//!
//! Deserializing free-form values recurses once per nesting level. serde_json stops at 128
//! levels; simd-json's serde layer has no such limit, so a few kilobytes of `[[[[…` could
//! exhaust the stack. Nesting is checked on simd-json's structural indexes, after its tape is
//! built and before deserializing: no extra pass over the bytes. Bodies nested deeper than
//! [`MAX_DEPTH`] skip the fast path and get serde_json's error.

use serde::de::DeserializeOwned;

/// Maximum nesting of arrays and objects accepted on the fast path (serde_json's limit).
pub const MAX_DEPTH: usize = 128;

/// Bodies up to this size reuse a per-thread scratch copy and simd-json buffers; larger
/// ones use fresh allocations that are released afterwards, so a worker thread keeps at most
/// a few times this much.
const REUSE_LIMIT: usize = 2 * 1024 * 1024;

thread_local! {
    static SCRATCH: std::cell::RefCell<(Vec<u8>, simd_json::Buffers)> =
        std::cell::RefCell::new((Vec::new(), simd_json::Buffers::default()));
}

/// The simd-json fast path: `None` when the body nests deeper than [`MAX_DEPTH`] or is not
/// JSON simd-json accepts; `Some(Err)` when it is JSON but not a `T`.
pub(crate) fn bounded_simd<T: DeserializeOwned>(
    body: &[u8],
) -> Option<Result<T, simd_json::Error>> {
    if body.len() > REUSE_LIMIT {
        let mut scratch = body.to_vec();
        let mut buffers = simd_json::Buffers::new(body.len());
        return parse_simd(body, &mut scratch, &mut buffers);
    }
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut guard) => {
            let (scratch, buffers) = &mut *guard;
            scratch.clear();
            scratch.extend_from_slice(body);
            parse_simd(body, scratch, buffers)
        }
        // Not reachable (no re-entrancy), but never panic: fall back to fresh buffers.
        Err(_) => {
            let mut scratch = body.to_vec();
            let mut buffers = simd_json::Buffers::new(body.len());
            parse_simd(body, &mut scratch, &mut buffers)
        }
    })
}

/// Builds simd-json's tape, checks nesting on its structural indexes (no extra pass over the
/// bytes), then deserializes `T`.
fn parse_simd<T: DeserializeOwned>(
    body: &[u8],
    scratch: &mut [u8],
    buffers: &mut simd_json::Buffers,
) -> Option<Result<T, simd_json::Error>> {
    let mut deserializer =
        simd_json::Deserializer::from_slice_with_buffers(scratch, buffers).ok()?;
    let mut depth = 0usize;
    for &index in buffers.structural_indexes() {
        match body.get(index as usize) {
            Some(b'[' | b'{') => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return None;
                }
            }
            Some(b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Some(T::deserialize(&mut deserializer))
}
