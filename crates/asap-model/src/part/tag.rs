//! Zero-sized `type` discriminators of the part structs.

macro_rules! part_tag {
    ($(#[$doc:meta])* $name:ident, $value:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name;

        impl $name {
            /// The discriminator string.
            pub const VALUE: &'static str = $value;
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str($value)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                if s == $value {
                    Ok($name)
                } else {
                    Err($crate::validation::de::error(
                        "literal_error",
                        format_args!("Input should be '{}'", $value),
                    ))
                }
            }
        }

        #[cfg(feature = "schema")]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({"type": "string", "const": $value})
            }
        }
    };
}

part_tag!(
    /// `"text"`.
    TextTag,
    "text"
);
part_tag!(
    /// `"data"`.
    DataTag,
    "data"
);
part_tag!(
    /// `"file"`.
    FileTag,
    "file"
);
part_tag!(
    /// `"resource"`.
    ResourceTag,
    "resource"
);
part_tag!(
    /// `"template"`.
    TemplateTag,
    "template"
);
