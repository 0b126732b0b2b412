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
//! Row sampling alone thins every per-customer and per-item history by the sample rate,
//! so queries that follow one customer (or item) across channels, years or returns find
//! nobody (20 of the 105 TPC-DS statements were empty at SF100 sampled 1%). A sampled build
//! therefore also concentrates the facts on a block of `sample` x the customers and items
//! ([`concentrate_sql`]): every fact row keeps its other values, its customer and item keys
//! are folded into the block, so each active customer and item has about the history it
//! has at full scale. Instance K uses the K-th block.
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
    /// The sparse instance (`sparse.rs`): whole dimensions, few facts, NULL keys, zeros.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sparse: bool,
    /// NULL corners (`nulls.rs`): every fact kept, but a share of nullable foreign keys,
    /// measures and customer names NULL.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nulls: bool,
}

impl GenSpec {
    /// The whole TPC-DS database at `scale`, no sampling.
    pub fn full(scale: f64) -> Self {
        GenSpec {
            benchmark: "tpcds".into(),
            scale,
            sample: None,
            instance: 1,
            sparse: false,
            nulls: false,
        }
    }

    /// The sparse validation instance at `scale` (see `sparse.rs`).
    pub fn sparse(scale: f64) -> Self {
        GenSpec {
            sparse: true,
            ..GenSpec::full(scale)
        }
    }

    pub fn sampled(scale: f64, sample: f64, instance: u32) -> Self {
        GenSpec {
            benchmark: "tpcds".into(),
            scale,
            sample: Some(sample),
            instance,
            sparse: false,
            nulls: false,
        }
    }

    /// This database with NULL corners (see `nulls.rs`).
    pub fn with_nulls(self) -> Self {
        GenSpec { nulls: true, ..self }
    }

    /// The sample fraction that changes anything: `None` for no sample or a sample of 1.
    pub fn effective_sample(&self) -> Option<f64> {
        self.sample.filter(|s| *s < 1.0)
    }

    /// Short human label: `tpcds scale 100 sample 0.01 instance 1`.
    pub fn label(&self) -> String {
        if self.nulls {
            let plain = GenSpec { nulls: false, ..self.clone() };
            return format!("{} with NULLs", plain.label());
        }
        if self.sparse {
            return format!("{} scale {} sparse", self.benchmark, self.scale);
        }
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
        if self.nulls {
            let plain = GenSpec { nulls: false, ..self.clone() };
            return format!("{}_nulls{}", plain.key(), super::nulls::RECIPE);
        }
        if self.sparse {
            return format!("sf{}_sparse{}", self.scale, super::sparse::RECIPE);
        }
        match self.effective_sample() {
            Some(s) => format!("sf{}_s{s}_i{}", self.scale, self.instance),
            None => format!("sf{}", self.scale),
        }
    }

    /// Checks scale, sample and instance (benchmark is checked by `generate.rs`).
    pub fn check(&self) -> Result<(), DbError> {
        if self.sparse && self.effective_sample().is_some() {
            return Err(DbError::Generate("a sparse instance is built from a whole database: leave out --sample".into()));
        }
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
    /// slice of the facts at the same scale with NULL corners (`nulls.rs`: the rows that
    /// reach a dense result hold NULLs), a tiny full database with NULL corners (scale
    /// 0.01, where empty groups, zero divisors and ties happen, and every fact is kept but
    /// a share of keys, measures and names is NULL: `count(*)` vs `count(col)`, `NOT IN`,
    /// `COALESCE` on rows that reach the result), then the sparse instance (scale 0.01, few
    /// facts, NULL foreign keys: outer joins, empty groups).
    /// `n` counts the primary.
    pub fn default_instances(&self, n: u32) -> Vec<GenSpec> {
        let mut out: Vec<GenSpec> = Vec::new();
        // Another slice: the next instance of the sample, or the second half of an
        // unsampled database's facts.
        let second = GenSpec {
            sample: Some(self.effective_sample().unwrap_or(0.5).min(0.5)),
            instance: self.instance + 1,
            nulls: true,
            ..self.clone()
        };
        let tiny = if self.scale > TINY_SCALE || self.effective_sample().is_some() {
            GenSpec::full(TINY_SCALE)
        } else {
            GenSpec::sampled(TINY_SCALE, 0.25, 3)
        }
        .with_nulls();
        for g in [second, tiny, GenSpec::sparse(TINY_SCALE)] {
            if out.len() + 1 >= n as usize {
                break;
            }
            out.push(g);
        }
        // Beyond four: more slices of the primary's facts, with NULL corners (each its own
        // rows: the salt is the instance number).
        let mut k = self.instance + 2;
        while out.len() + 1 < n as usize {
            out.push(GenSpec {
                sample: Some(self.effective_sample().unwrap_or(0.5).min(0.5)),
                instance: k,
                nulls: true,
                ..self.clone()
            });
            k += 1;
        }
        out
    }
}

/// Data instances a generated DB is checked on by default: the primary, another slice
/// with NULL corners, scale 0.01 with NULL corners and the sparse instance. (A fifth, a
/// third slice with other NULL corners, let two wrong rewrites of the confusion table
/// pass instead of failing: its one more row of evidence lifted their thin originals over
/// `min_rows`, so they were no longer re-bound to data that tells them apart.)
pub const DEFAULT_GENERATED_INSTANCES: u32 = 4;

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

/// Fact columns holding a customer key, and holding an item key.
const CUSTOMER_COLUMNS: [(&str, &str); 10] = [
    ("store_sales", "ss_customer_sk"),
    ("store_returns", "sr_customer_sk"),
    ("catalog_sales", "cs_bill_customer_sk"),
    ("catalog_sales", "cs_ship_customer_sk"),
    ("catalog_returns", "cr_refunded_customer_sk"),
    ("catalog_returns", "cr_returning_customer_sk"),
    ("web_sales", "ws_bill_customer_sk"),
    ("web_sales", "ws_ship_customer_sk"),
    ("web_returns", "wr_refunded_customer_sk"),
    ("web_returns", "wr_returning_customer_sk"),
];
const ITEM_COLUMNS: [(&str, &str); 7] = [
    ("store_sales", "ss_item_sk"),
    ("store_returns", "sr_item_sk"),
    ("catalog_sales", "cs_item_sk"),
    ("catalog_returns", "cr_item_sk"),
    ("web_sales", "ws_item_sk"),
    ("web_returns", "wr_item_sk"),
    ("inventory", "inv_item_sk"),
];

/// The block of keys 1..=`total` that sample `sample`, instance `instance` folds into:
/// (first key - 1, block length).
pub fn key_block(total: u64, sample: f64, instance: u32) -> (u64, u64) {
    let len = ((total as f64 * sample).ceil() as u64).clamp(1, total.max(1));
    let blocks = (total / len).max(1);
    let base = ((u64::from(instance.max(1)) - 1) % blocks) * len;
    (base, len)
}

/// UPDATE statements folding the fact tables' customer and item keys into their blocks
/// (NULL keys stay NULL; a key maps to `base + 1 + (key - 1) % len`).
pub fn concentrate_sql(customers: u64, items: u64, sample: f64, instance: u32) -> String {
    let mut sql = String::new();
    for (cols, total) in [(&CUSTOMER_COLUMNS[..], customers), (&ITEM_COLUMNS[..], items)] {
        let (base, len) = key_block(total, sample, instance);
        for (table, col) in cols {
            sql.push_str(&format!(
                "UPDATE {table} SET {col} = {base} + 1 + ({col} - 1) % {len} WHERE {col} IS NOT NULL;\n"
            ));
        }
    }
    sql
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
    fn key_blocks_are_disjoint_per_instance() {
        assert_eq!(key_block(2_000_000, 0.01, 1), (0, 20_000));
        assert_eq!(key_block(2_000_000, 0.01, 2), (20_000, 20_000));
        assert_eq!(key_block(10, 0.5, 3), (0, 5));
        assert!(concentrate_sql(100, 10, 0.1, 1).contains("ss_customer_sk = 0 + 1 + (ss_customer_sk - 1) % 10"));
    }

    #[test]
    fn default_instances_add_a_slice_and_a_tiny_db() {
        let p = GenSpec::sampled(100.0, 0.01, 1);
        let extra = p.default_instances(DEFAULT_GENERATED_INSTANCES);
        assert_eq!(extra.len(), 3);
        assert_eq!(extra[0], GenSpec::sampled(100.0, 0.01, 2).with_nulls());
        assert_eq!(extra[0].key(), "sf100_s0.01_i2_nulls3");
        assert_eq!(p.default_instances(5)[3], GenSpec::sampled(100.0, 0.01, 3).with_nulls());
        assert_eq!(extra[1], GenSpec::full(TINY_SCALE).with_nulls());
        assert_eq!(extra[1].key(), "sf0.01_nulls3");
        assert_eq!(extra[2], GenSpec::sparse(TINY_SCALE));
        assert_eq!(extra[2].key(), "sf0.01_sparse3");
        assert_eq!(p.default_instances(3).len(), 2);
        assert!(p.default_instances(1).is_empty());
        let tiny = GenSpec::full(0.01).default_instances(3);
        assert_ne!(tiny[1], GenSpec::full(0.01));
        assert_ne!(p.key(), extra[0].key());
    }
}
