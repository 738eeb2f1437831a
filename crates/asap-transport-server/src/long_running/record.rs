//! The snapshot `data` a long-running task's checkpoints carry.
//!
//! ```json
//! {"job": "countdown", "instance": "default", "input": {…}, "state": {…} | null,
//!  "result": {…}            // the final snapshot of a completed task
//!  "error": "why"}          // the final snapshot of a failed task
//! ```
//!
//! Hand-written rather than a serde struct: the snapshot stores it as a free-form object,
//! and a record written by another version (a member added, one missing) must still be
//! readable member by member; what cannot be read is reported, never guessed.

use asap_model::JsonObject;
use serde_json::Value;

/// Schema version of these records (`SnapshotRecord::schema_version`).
pub(super) const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone)]
pub(super) struct Checkpoint {
    pub(super) job: String,
    /// The runtime instance that started the task (see `TaskRuntimeBuilder::instance`).
    pub(super) instance: String,
    pub(super) input: JsonObject,
    pub(super) state: Option<JsonObject>,
    /// `Some` in the final snapshot only.
    pub(super) outcome: Option<Result<JsonObject, String>>,
}

impl Checkpoint {
    pub(super) fn to_data(&self) -> JsonObject {
        let mut data = JsonObject::new();
        data.insert("job".into(), Value::from(self.job.as_str()));
        data.insert("instance".into(), Value::from(self.instance.as_str()));
        data.insert("input".into(), Value::Object(self.input.clone()));
        data.insert(
            "state".into(),
            self.state.clone().map_or(Value::Null, Value::Object),
        );
        match &self.outcome {
            Some(Ok(result)) => {
                data.insert("result".into(), Value::Object(result.clone()));
            }
            Some(Err(error)) => {
                data.insert("error".into(), Value::from(error.as_str()));
            }
            None => {}
        }
        data
    }

    /// Reads a record; `Err` names what is missing or malformed.
    pub(super) fn from_data(data: &JsonObject) -> Result<Self, String> {
        let job = match data.get("job") {
            Some(Value::String(job)) => job.clone(),
            _ => return Err("the checkpoint names no job (`job` missing or not a string)".into()),
        };
        let instance = match data.get("instance") {
            Some(Value::String(instance)) => instance.clone(),
            None => super::DEFAULT_INSTANCE.to_owned(),
            Some(_) => return Err("the checkpoint's `instance` is not a string".into()),
        };
        let input = match data.get("input") {
            Some(Value::Object(input)) => input.clone(),
            None | Some(Value::Null) => JsonObject::new(),
            Some(_) => return Err("the checkpoint's `input` is not an object".into()),
        };
        let state = match data.get("state") {
            Some(Value::Object(state)) => Some(state.clone()),
            None | Some(Value::Null) => None,
            Some(_) => return Err("the checkpoint's `state` is not an object".into()),
        };
        let outcome = match (data.get("result"), data.get("error")) {
            (Some(Value::Object(result)), _) => Some(Ok(result.clone())),
            (_, Some(Value::String(error))) => Some(Err(error.clone())),
            _ => None,
        };
        Ok(Self {
            job,
            instance,
            input,
            state,
            outcome,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_bad_ones_are_named() {
        let mut input = JsonObject::new();
        input.insert("steps".into(), Value::from(3));
        let mut state = JsonObject::new();
        state.insert("done".into(), Value::from(2));
        let record = Checkpoint {
            job: "countdown".into(),
            instance: "a".into(),
            input,
            state: Some(state),
            outcome: Some(Err("boom".into())),
        };
        let back = Checkpoint::from_data(&record.to_data()).unwrap();
        assert_eq!(back.job, "countdown");
        assert_eq!(back.instance, "a");
        assert_eq!(back.input, record.input);
        assert_eq!(back.state, record.state);
        assert_eq!(back.outcome, Some(Err("boom".to_owned())));

        let mut bad = JsonObject::new();
        bad.insert("job".into(), Value::from(7));
        assert!(Checkpoint::from_data(&bad).unwrap_err().contains("job"));
        bad.insert("job".into(), Value::from("x"));
        bad.insert("state".into(), Value::from("not an object"));
        assert!(Checkpoint::from_data(&bad).unwrap_err().contains("state"));
    }
}
