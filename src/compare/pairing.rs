//! Which arm of B is compared with which arm of A. Arms pair by name; `--map A_ARM=B_ARM`
//! pairs arms whose names differ (a spec's unnamed arm is recorded as `default`, and
//! adding `[[arms]]` names it). Nothing is paired by guess: when no arm pairs, the caller
//! gets both lists to show with the `--map` hint.

use std::str::FromStr;

/// `--map A_ARM=B_ARM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmMap {
    pub a: String,
    pub b: String,
}

impl FromStr for ArmMap {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('=') {
            Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
                Ok(ArmMap { a: a.trim().to_string(), b: b.trim().to_string() })
            }
            _ => Err(format!("`{s}`: expected A_ARM=B_ARM (an arm of A, `=`, an arm of B), e.g. default=dag_batches")),
        }
    }
}

/// A pair of arms: A's name, B's name, and the label rows and verdicts carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmPair {
    pub a: String,
    pub b: String,
}

impl ArmPair {
    pub fn label(&self) -> String {
        if self.a == self.b { self.a.clone() } else { format!("{} -> {}", self.a, self.b) }
    }
}

/// Why arms could not be paired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairError {
    /// No arm of A pairs with an arm of B.
    Nothing,
    /// A `--map` names an arm a side does not have: (side, arm).
    UnknownArm(&'static str, String),
}

/// Pair `a`'s arms with `b`'s: the maps first, then equal names among the arms no map
/// used. Order follows A's arms.
pub fn pair_arms(a: &[String], b: &[String], maps: &[ArmMap]) -> Result<Vec<ArmPair>, PairError> {
    for m in maps {
        if !a.contains(&m.a) {
            return Err(PairError::UnknownArm("A", m.a.clone()));
        }
        if !b.contains(&m.b) {
            return Err(PairError::UnknownArm("B", m.b.clone()));
        }
    }
    let mut out: Vec<ArmPair> = Vec::new();
    for arm in a {
        if let Some(m) = maps.iter().find(|m| &m.a == arm) {
            out.push(ArmPair { a: arm.clone(), b: m.b.clone() });
        } else if b.contains(arm) && !maps.iter().any(|m| &m.b == arm) {
            out.push(ArmPair { a: arm.clone(), b: arm.clone() });
        }
    }
    if out.is_empty() { Err(PairError::Nothing) } else { Ok(out) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_pair_maps_rename_and_nothing_is_guessed() {
        let p = pair_arms(&v(&["a", "b"]), &v(&["b", "c"]), &[]).unwrap();
        assert_eq!(p, vec![ArmPair { a: "b".into(), b: "b".into() }]);
        assert_eq!(pair_arms(&v(&["default"]), &v(&["x", "y"]), &[]), Err(PairError::Nothing));
        let m: ArmMap = "default=x".parse().unwrap();
        let p = pair_arms(&v(&["default"]), &v(&["x", "y"]), &[m]).unwrap();
        assert_eq!(p[0].label(), "default -> x");
        assert!(matches!(pair_arms(&v(&["a"]), &v(&["b"]), &["a=z".parse().unwrap()]), Err(PairError::UnknownArm("B", _))));
        assert!("nope".parse::<ArmMap>().unwrap_err().contains("A_ARM=B_ARM"));
        // A mapped B arm is not paired again by name.
        let p = pair_arms(&v(&["a", "b"]), &v(&["b"]), &["a=b".parse().unwrap()]).unwrap();
        assert_eq!(p, vec![ArmPair { a: "a".into(), b: "b".into() }]);
    }
}
