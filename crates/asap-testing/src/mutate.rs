//! Structural mutation of JSON documents, for property tests that compare decoders on
//! almost-valid input.

use serde_json::Value;

/// Removes, replaces or adds one member somewhere in `value`.
///
/// `path` picks the node: at each object or array, the next index (modulo its length)
/// chooses a member or element to descend into, until the path runs out. At the chosen
/// object, `action % 3` removes the member (0), replaces it with `replacement` (1) or adds
/// an `extra` member (2); an array element or a scalar is replaced. Every `path` and
/// `action` names some mutation, so proptest strategies can draw them freely.
///
/// ```
/// use serde_json::json;
///
/// let mut doc = json!({"a": 1, "b": {"c": 2}});
/// asap_testing::mutate::mutate(&mut doc, &[1, 0], 1, json!(null));
/// assert_eq!(doc, json!({"a": 1, "b": {"c": null}}));
/// ```
pub fn mutate(value: &mut Value, path: &[usize], action: u8, replacement: Value) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let index = path.first().copied().unwrap_or(0) % map.len();
            let key = map.keys().nth(index).cloned().unwrap_or_default();
            if let Some(child) = map.get_mut(&key).filter(|_| path.len() > 1) {
                return mutate(child, &path[1..], action, replacement);
            }
            match action % 3 {
                0 => {
                    map.remove(&key);
                }
                1 => {
                    map.insert(key, replacement);
                }
                _ => {
                    map.insert("extra".into(), replacement);
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let index = path.first().copied().unwrap_or(0) % items.len();
            items[index] = replacement;
        }
        other => *other = replacement,
    }
}
