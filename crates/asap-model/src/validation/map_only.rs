//! Deserializing structs from JSON objects only.
//!
//! serde's derived `Deserialize` for a struct also accepts a JSON array of its fields in
//! order. The protocol accepts objects only, so every struct that can stand in a place where
//! an array could appear is read through [`MapOnly`] (or [`map_only`] as a `deserialize_with`
//! function).

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A `T` that was read from a JSON object (never from an array).
#[derive(Debug, Clone, PartialEq)]
pub struct MapOnly<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for MapOnly<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        map_only(deserializer).map(MapOnly)
    }
}

/// Deserializes `T` only from a map; arrays and scalars fail as `dict_type`.
pub fn map_only<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    deserializer.deserialize_map(MapOnlyVisitor(PhantomData))
}

struct MapOnlyVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for MapOnlyVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a valid dictionary")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map))
    }
}

/// `Option<T>` where `T` must be an object when present.
pub(crate) fn option_map_only<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Option::<MapOnly<T>>::deserialize(deserializer).map(|o| o.map(|m| m.0))
}

/// `Vec<T>` whose items must be objects.
pub(crate) fn vec_map_only<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    Vec::<MapOnly<T>>::deserialize(deserializer).map(|v| v.into_iter().map(|m| m.0).collect())
}
