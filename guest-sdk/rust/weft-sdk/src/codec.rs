//! Values across the boundary: op inputs are decoded from, and outputs encoded to, JSON
//! (codec `json`). Every decode error is a fatal [`Failure`] naming the op and the input.

use crate::bindings::weft::plugin::types as wit;
use crate::failure::Failure;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The codec of every value this SDK writes.
pub const JSON: &str = "json";

fn check_codec(what: &str, input: &str, value: &wit::Value) -> Result<(), Failure> {
    if value.codec == JSON {
        Ok(())
    } else {
        Err(Failure::fatal(format!(
            "{what}: input `{input}` has codec `{}`, but this op reads only `{JSON}`",
            value.codec
        )))
    }
}

/// Decodes one input of a step into `T`. A fan-in input is decoded as a JSON array of its
/// sources' values, so `Vec<U>` reads a fan-in of `U`s.
pub(crate) fn decode_arg<T: DeserializeOwned>(
    what: &str,
    input: &str,
    type_name: &str,
    arg: wit::InputArg,
) -> Result<T, Failure> {
    let bad = |e: serde_json::Error| {
        Failure::fatal(format!(
            "{what}: cannot decode input `{input}` as `{type_name}`: {e}"
        ))
    };
    match arg {
        wit::InputArg::Single(value) => {
            check_codec(what, input, &value)?;
            serde_json::from_slice(&value.data).map_err(bad)
        }
        wit::InputArg::FanIn(values) => {
            let mut items = Vec::with_capacity(values.len());
            for value in &values {
                check_codec(what, input, value)?;
                items.push(serde_json::from_slice::<serde_json::Value>(&value.data).map_err(bad)?);
            }
            serde_json::from_value(serde_json::Value::Array(items)).map_err(bad)
        }
    }
}

/// Encodes an output as JSON.
pub(crate) fn encode<T: Serialize>(what: &str, value: &T) -> Result<wit::Value, Failure> {
    serde_json::to_vec(value)
        .map(|data| wit::Value {
            codec: JSON.to_string(),
            data,
        })
        .map_err(|e| Failure::fatal(format!("{what}: cannot encode the output as JSON: {e}")))
}

/// The inputs handed to one step, taken one by one by the op's generated executor.
#[doc(hidden)]
pub struct Inputs {
    what: String,
    items: Vec<wit::StepInput>,
}

impl Inputs {
    pub(crate) fn new(what: String, items: Vec<wit::StepInput>) -> Self {
        Self { what, items }
    }

    /// Removes and decodes the input `name`.
    pub fn take<T: DeserializeOwned>(&mut self, name: &str, type_name: &str) -> Result<T, Failure> {
        let Some(pos) = self.items.iter().position(|i| i.name == name) else {
            return Err(Failure::fatal(format!(
                "{}: missing input `{name}`",
                self.what
            )));
        };
        let input = self.items.swap_remove(pos);
        decode_arg(&self.what, name, type_name, input.arg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> wit::Value {
        wit::Value {
            codec: JSON.into(),
            data: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn decodes_single_and_fan_in() {
        let one: Vec<i64> = decode_arg(
            "op `x`",
            "n",
            "Vec<i64>",
            wit::InputArg::Single(json("[1,2]")),
        )
        .expect("decodes");
        assert_eq!(one, vec![1, 2]);
        let many: Vec<i64> = decode_arg(
            "op `x`",
            "n",
            "Vec<i64>",
            wit::InputArg::FanIn(vec![json("3"), json("4")]),
        )
        .expect("decodes");
        assert_eq!(many, vec![3, 4]);
    }

    #[test]
    fn decode_errors_name_the_op_and_input() {
        let err = decode_arg::<i64>(
            "op `add_one`",
            "x",
            "i64",
            wit::InputArg::Single(json("\"a\"")),
        )
        .expect_err("a string is no i64");
        assert!(
            err.message()
                .starts_with("op `add_one`: cannot decode input `x` as `i64`"),
            "{err}"
        );
        assert!(!err.is_retryable());
        let other = wit::Value {
            codec: "bincode".into(),
            data: vec![],
        };
        let err = decode_arg::<i64>("op `add_one`", "x", "i64", wit::InputArg::Single(other))
            .expect_err("wrong codec");
        assert!(err.message().contains("codec `bincode`"), "{err}");
        let err = Inputs::new("op `add_one`".into(), vec![])
            .take::<i64>("x", "i64")
            .expect_err("missing");
        assert_eq!(err.message(), "op `add_one`: missing input `x`");
    }
}
