//! Record payloads read as the page reads them (`web/lib/proto/strict-json.js`): a struct is a JSON
//! object, never an array.
//!
//! serde's derived `Deserialize` for a struct also takes a sequence of its fields in order, and
//! `serde_json` offers one for a JSON array, so `["Phone"]` read as `{"name":"Phone"}` here while
//! the page refused it: the two implementations disagreed about what a peer may send. This
//! module parses the payload to a [`Value`] and deserializes from that through a view that
//! answers a struct only from an object, at every depth (a manifest's file entries, a resume
//! claim). Unknown fields, types and limits stay the structs' own `serde` rules.

use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess,
    Visitor,
};
use serde_json::Value;

/// Parses `bytes` as JSON into `T`, refusing an array wherever `T` has a struct.
///
/// # Errors
/// The parser's message: invalid JSON, an array for a struct, or what `T`'s rules refuse.
pub(crate) fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    // serde_json's own reading first: every rule of `T`, and a key given twice (which a `Value`
    // would keep only once); then the shape, through a `Value`.
    let parsed: T = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let value: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    T::deserialize(ObjectsOnly(&value)).map_err(|e| e.0)?;
    Ok(parsed)
}

/// Why a payload was refused.
#[derive(Debug)]
pub(crate) struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        Self(msg.to_string())
    }
}

/// A JSON value seen through the rule that structs are objects.
struct ObjectsOnly<'a>(&'a Value);

impl<'de> Deserializer<'de> for ObjectsOnly<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Entries {
                iter: map.iter(),
                value: None,
            }),
            Value::Array(items) => visitor.visit_seq(Items(items.iter())),
            // Scalars have no structs inside: serde_json's own reading of them.
            scalar => scalar
                .clone()
                .deserialize_any(visitor)
                .map_err(de::Error::custom),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if !self.0.is_object() {
            return Err(de::Error::custom(format!("{name} must be a JSON object")));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.0.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        // The payloads' enums are strings (error codes, a lane's side): no struct inside.
        self.0
            .clone()
            .deserialize_enum(name, variants, visitor)
            .map_err(de::Error::custom)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

/// An object's entries, each value seen through the same rule.
struct Entries<'a> {
    iter: serde_json::map::Iter<'a>,
    value: Option<&'a Value>,
}

impl<'de> MapAccess<'de> for Entries<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.iter.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        let key: de::value::StrDeserializer<'_, Error> = key.as_str().into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let value = self
            .value
            .take()
            .ok_or_else(|| <Error as de::Error>::custom("a value without its key"))?;
        seed.deserialize(ObjectsOnly(value))
    }
}

/// An array's items, each seen through the same rule.
struct Items<'a>(std::slice::Iter<'a, Value>);

impl<'de> SeqAccess<'de> for Items<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.0.next() {
            Some(v) => seed.deserialize(ObjectsOnly(v)).map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        name: String,
        size: u64,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        files: Vec<Inner>,
        #[serde(default)]
        more: bool,
        note: Option<String>,
    }

    #[test]
    fn objects_parse_as_serde_json_would() {
        let got: Outer = from_slice(br#"{"files":[{"name":"a","size":1}],"note":null}"#).unwrap();
        assert_eq!(
            got,
            Outer {
                files: vec![Inner {
                    name: "a".into(),
                    size: 1
                }],
                more: false,
                note: None
            }
        );
        let got: Outer = from_slice(br#"{"files":[],"more":true,"note":"x"}"#).unwrap();
        assert!(got.more);
        assert_eq!(got.note.as_deref(), Some("x"));
    }

    #[test]
    fn an_array_for_a_struct_is_refused_at_any_depth() {
        // serde_json alone takes both.
        assert!(serde_json::from_slice::<Outer>(br#"[[["a",1]],false,null]"#).is_ok());
        assert!(serde_json::from_slice::<Outer>(br#"{"files":[["a",1]]}"#).is_ok());
        assert!(from_slice::<Outer>(br#"[[["a",1]],false,null]"#).is_err());
        assert!(from_slice::<Outer>(br#"{"files":[["a",1]]}"#).is_err());
    }

    #[test]
    fn the_structs_own_rules_still_hold() {
        assert!(from_slice::<Outer>(br#"{"files":[{"name":"a","size":1,"x":0}]}"#).is_err());
        assert!(from_slice::<Outer>(br#"{"files":[{"name":"a","size":-1}]}"#).is_err());
        assert!(from_slice::<Outer>(br#"{"files":[{"name":"a","size":1.5}]}"#).is_err());
        assert!(from_slice::<Outer>(br#"{"files":[],"y":1}"#).is_err());
        assert!(from_slice::<Outer>(b"{").is_err());
        assert!(
            from_slice::<Outer>(br#"{"files":[],"files":[]}"#).is_err(),
            "a key twice"
        );
    }
}
