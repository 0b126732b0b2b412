//! Files with several statements (TPC-DS 14, 23, 24 and 39 hold two queries each): the one
//! rule every command follows.
//!
//! **Statement k of a candidate is judged against statement k of the original.** A
//! candidate may hold fewer statements than the original: the ones it leaves out are the
//! original's, unchanged (so a rewrite of statement 1, which is what `qt run`'s prompts ask
//! for, is a rewrite of the file with the other statements kept). It may not hold more.
//! Statements equal to the original's (same normalized text) are not run again: they agree
//! by construction and are not timed. A file passes when every changed statement passes;
//! `qt db survey` lists each statement (`query_14.sql#2`) because each is judged alone.
//!
//! Only pairs text; judging is `instances.rs`'s job.

/// One statement position of a judged file.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementPair {
    /// 1-based position in the file.
    pub index: usize,
    pub original: String,
    pub candidate: String,
    /// The candidate's statement is the original's (normalized text): nothing to judge.
    pub same: bool,
}

/// The statement pairs of `candidate` against `original` (both whole files). `Err` is a
/// sentence for `error/not_select` (more statements than the original, or none).
pub fn pair(original: &str, candidate: &str) -> Result<Vec<StatementPair>, String> {
    let (o, c) = (crate::db::split_statements(original), crate::db::split_statements(candidate));
    if c.is_empty() {
        return Err("the candidate holds no SQL statement".into());
    }
    if c.len() > o.len().max(1) {
        return Err(format!(
            "the candidate holds {} statements but the original holds {}: statement k of a candidate is judged against statement k of the original, so it may hold at most {}",
            c.len(),
            o.len(),
            o.len().max(1)
        ));
    }
    let o = if o.is_empty() { vec![original.trim().to_string()] } else { o };
    Ok(o.iter()
        .enumerate()
        .map(|(i, orig)| {
            let cand = c.get(i).cloned().unwrap_or_else(|| orig.clone());
            let same = super::dedup::normalize(&cand) == super::dedup::normalize(orig);
            StatementPair {
                index: i + 1,
                original: orig.clone(),
                candidate: cand,
                same,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::pair;

    #[test]
    fn fewer_statements_keep_the_rest_and_more_are_refused() {
        let two = "select 1 as a;\nselect 2 as b;";
        let p = pair(two, "SELECT 1 AS a").unwrap();
        assert_eq!(p.len(), 2);
        assert!(p[0].same && p[1].same);
        let p = pair(two, "select 1 as a; select 3 as b").unwrap();
        assert!(p[0].same && !p[1].same);
        assert!(pair("select 1", "select 1; select 2").unwrap_err().contains("at most 1"));
        assert!(pair(two, " -- nothing\n").is_err());
    }
}
