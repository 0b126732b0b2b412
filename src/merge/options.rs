//! The run options that change what a generation is, as each shard's run folders recorded
//! them in config.json: the samples seed of each arm (`--repeat N`,
//! `generation.samples_seed`), `--no-validate`, the `--query`/`--arm` filters, the
//! validation settings and each arm's overrides. Shards that differ in any of them are
//! not one experiment run: `qt merge` refuses them (exit 2, naming the shard and the
//! option), or with `--allow-mixed` records each shard's options with its generations.

use serde_json::{Value, json};

/// (name shown to the user, how to read it from a config.json).
const OPTIONS: &[(&str, &[&str])] = &[
    ("samples seed per arm (--repeat N / generation.samples_seed)", &["options", "selection", "samples_seed"]),
    ("--repeat", &["options", "selection", "repeat"]),
    ("--no-validate", &["options", "no_validate"]),
    ("--query filter", &["options", "selection", "query"]),
    ("--arm filter", &["options", "selection", "arm"]),
    ("validation settings ([validation])", &["spec", "validation"]),
    ("arm overrides ([[arms]] / [matrix])", &["arms"]),
];

fn get<'v>(v: &'v Value, path: &[&str]) -> &'v Value {
    path.iter().fold(v, |v, k| &v[*k])
}

/// The options of one run folder's config.json that must agree across shards (arms are
/// compared by name, workers and overrides; the samples seed has its own entry).
pub fn of(config: &Value) -> Value {
    let mut m = serde_json::Map::new();
    for (name, path) in OPTIONS {
        let mut v = get(config, path).clone();
        if path == &["arms"] {
            v = json!(v.as_array().into_iter().flatten().map(|a| json!({"name": a["name"], "params": a["params"]})).collect::<Vec<_>>());
        }
        m.insert(name.to_string(), v);
    }
    Value::Object(m)
}

/// The first option in which `b` differs from `a`: (option, a's value, b's value).
pub fn first_difference(a: &Value, b: &Value) -> Option<(String, String, String)> {
    for (name, _) in OPTIONS {
        let (x, y) = (&a[*name], &b[*name]);
        if x != y {
            let show = |v: &Value| if v.is_null() { "not set".to_string() } else { v.to_string() };
            return Some((name.to_string(), show(x), show(y)));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_different_repeat_seed_is_the_difference_named() {
        let cfg = |seed: u64| json!({"options": {"no_validate": false, "selection": {"query": [], "arm": [], "repeat": seed, "samples_seed": [seed]}},
                                     "spec": {"validation": {"timing_rounds": 7}}, "arms": [{"name": "a", "params": {}, "samples_seed": seed}]});
        let (a, b) = (of(&cfg(0)), of(&cfg(1)));
        let (what, x, y) = first_difference(&a, &b).unwrap();
        assert!(what.starts_with("samples seed") && x == "[0]" && y == "[1]", "{what} {x} {y}");
        assert_eq!(first_difference(&a, &of(&cfg(0))), None);
        let mut rounds = cfg(0);
        rounds["spec"]["validation"]["timing_rounds"] = json!(3);
        assert!(first_difference(&a, &of(&rounds)).unwrap().0.starts_with("validation settings"));
    }
}
