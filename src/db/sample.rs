//! What a generated sample database is (benchmark, scale, fact sample, instance) and which
//! source rows of a fact table a sampled build generates.
//!
//! "TPC-DS SF100 sampled 1%" means: every dimension table in full at scale 100, and 1% of
//! each fact table's source rows. The rows are taken as many short runs spread evenly over
//! the table (tpcdsgen fast-forwards to any source row cheaply), so a sample spans the whole
//! date range even for `inventory`, whose date is its slowest-moving key. Instance K takes
//! the K-th run of each segment: instances share every dimension row and have disjoint fact
//! rows (as long as K <= 1/sample). Returns are generated from the same sales source rows,
//! so sampled returns still join their sales.
//!
//! This file does not generate rows (`generate.rs`) nor decide where files go (`cache.rs`).

use std::ops::RangeInclusive;

use super::DbError;

/// One generated database: the cache key, the fingerprint and config.json all include
/// every field.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GenSpec {
    pub benchmark: String,
    pub scale: f64,
    /// Fraction of the fact tables' source rows, in (0, 1]; `None` = every row.
    pub sample: Option<f64>,
    /// Which slice of the facts (1-based; only meaningful with a sample).
    pub instance: u32,
}

impl GenSpec {
    /// The whole TPC-DS database at `scale`, no sampling.
    pub fn full(scale: f64) -> Self {
        GenSpec {
            benchmark: "tpcds".into(),
            scale,
            sample: None,
            instance: 1,
        }
    }

    pub fn sampled(scale: f64, sample: f64, instance: u32) -> Self {
        GenSpec {
            benchmark: "tpcds".into(),
            scale,
            sample: Some(sample),
            instance,
        }
    }

    /// The sample fraction that changes anything: `None` for no sample or a sample of 1.
    pub fn effective_sample(&self) -> Option<f64> {
        self.sample.filter(|s| *s < 1.0)
    }

    /// Short human label: `tpcds scale 100 sample 0.01 instance 1`.
    pub fn label(&self) -> String {
        match self.effective_sample() {
            Some(s) => format!(
                "{} scale {} sample {s} instance {}",
                self.benchmark, self.scale, self.instance
            ),
            None => format!("{} scale {}", self.benchmark, self.scale),
        }
    }

    /// The cache file name stem part after the benchmark: `sf100_s0.01_i1` or `sf0.1`.
    pub fn key(&self) -> String {
        match self.effective_sample() {
            Some(s) => format!("sf{}_s{s}_i{}", self.scale, self.instance),
            None => format!("sf{}", self.scale),
        }
    }

    /// Checks scale, sample and instance (benchmark is checked by `generate.rs`).
    pub fn check(&self) -> Result<(), DbError> {
        super::generate::check_benchmark(&self.benchmark)?;
        super::generate::check_scale(self.scale)?;
        if let Some(s) = self.sample {
            check_sample(s)?;
        }
        if self.instance < 1 {
            return Err(DbError::BadInstance(self.instance as i64));
        }
        Ok(())
    }

    /// The default extra validation instances of this generated DB, in order: another
    /// slice of the facts at the same scale, then a tiny full database (scale 0.01, where
    /// empty groups, zero divisors, NULL keys and ties happen). `n` counts the primary.
    pub fn default_instances(&self, n: u32) -> Vec<GenSpec> {
        let mut out: Vec<GenSpec> = Vec::new();
        // Another slice: the next instance of the sample, or the second half of an
        // unsampled database's facts.
        let second = GenSpec {
            sample: Some(self.effective_sample().unwrap_or(0.5).min(0.5)),
            instance: self.instance + 1,
            ..self.clone()
        };
        let tiny = if self.scale > TINY_SCALE || self.effective_sample().is_some() {
            GenSpec::full(TINY_SCALE)
        } else {
            GenSpec::sampled(TINY_SCALE, 0.25, 3)
        };
        for g in [second, tiny] {
            if out.len() + 1 >= n as usize {
                break;
            }
            out.push(g);
        }
        // Beyond three: more slices of the primary's facts.
        let mut k = self.instance + 2;
        while out.len() + 1 < n as usize {
            out.push(GenSpec {
                sample: Some(self.effective_sample().unwrap_or(0.5).min(0.5)),
                instance: k,
                ..self.clone()
            });
            k += 1;
        }
        out
    }
}

/// The tiny validation instance's scale.
pub const TINY_SCALE: f64 = 0.01;

/// Samples must lie in (0, 1].
pub fn check_sample(sample: f64) -> Result<(), DbError> {
    if sample.is_finite() && sample > 0.0 && sample <= 1.0 {
        Ok(())
    } else {
        Err(DbError::BadSample(sample))
    }
}

/// Segments per sales table: each contributes one run of source rows.
pub const SALES_SEGMENTS: u64 = 200;

/// The source rows (1-based, inclusive) to generate out of `total`: one run per segment
/// of `segment_len` rows, `sample` of the segment long, the `instance`-th run in it.
pub fn sample_ranges(
    total: u64,
    segment_len: u64,
    sample: f64,
    instance: u32,
) -> Vec<RangeInclusive<u64>> {
    let segment_len = segment_len.max(1);
    let mut out = Vec::new();
    let mut seg_start = 1;
    while seg_start <= total {
        let seg_end = (seg_start + segment_len - 1).min(total);
        let len = seg_end - seg_start + 1;
        let take = ((len as f64 * sample).round() as u64).clamp(1, len);
        let slots = (len / take).max(1);
        let slot = (u64::from(instance.max(1)) - 1) % slots;
        let start = seg_start + slot * take;
        out.push(start..=(start + take - 1).min(seg_end));
        seg_start = seg_end + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_the_table_evenly_and_instances_are_disjoint() {
        let a = sample_ranges(10_000, 1_000, 0.01, 1);
        let b = sample_ranges(10_000, 1_000, 0.01, 2);
        assert_eq!(a.len(), 10);
        assert_eq!(a[0], 1..=10);
        assert_eq!(b[0], 11..=20);
        assert_eq!(*a[9].start(), 9_001);
        let rows: u64 = a.iter().map(|r| r.end() - r.start() + 1).sum();
        assert_eq!(rows, 100);
    }

    #[test]
    fn tiny_tables_still_get_a_row_and_stay_in_range() {
        let r = sample_ranges(3, 100, 0.01, 7);
        assert_eq!(r, vec![1..=1]);
        assert!(sample_ranges(0, 10, 0.5, 1).is_empty());
        let r = sample_ranges(10, 10, 0.5, 3);
        assert_eq!(r, vec![1..=5]);
    }

    #[test]
    fn default_instances_add_a_slice_and_a_tiny_db() {
        let p = GenSpec::sampled(100.0, 0.01, 1);
        let extra = p.default_instances(3);
        assert_eq!(extra[0], GenSpec::sampled(100.0, 0.01, 2));
        assert_eq!(extra[1], GenSpec::full(TINY_SCALE));
        assert!(p.default_instances(1).is_empty());
        let tiny = GenSpec::full(0.01).default_instances(3);
        assert_ne!(tiny[1], GenSpec::full(0.01));
        assert_ne!(p.key(), extra[0].key());
    }
}
