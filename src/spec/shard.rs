//! Sharding an experiment over several machines, like nextest's `--partition`: which jobs
//! shard K of N runs. No I/O here: `--shard auto/N` is resolved from an environment passed
//! in as a closure, so tests need no real variables.
//!
//! Users write shards 1-based (`--shard 2/3`); a [`Shard`] stores the 0-based index and can
//! only be built valid (`1 <= K <= N`), so no later code ever sees `0/3` or `4/3`.
//!
//! The partition (scheme [`SCHEME`]) depends only on the query ids in spec order, the
//! number of generations per query and N:
//! 1. queries are put in a stable order: by the 64-bit FNV-1a hash of the query id's UTF-8
//!    bytes (offset basis 0xcbf29ce484222325, prime 0x100000001b3), ties by spec order.
//!    This spreads neighbouring queries (often of similar cost) over the shards and does
//!    not depend on the Rust release (std's hasher may change);
//! 2. the jobs in that order (query, then arm, then worker) are cut into N contiguous
//!    slices. The ideal cut k (k = 1..N-1) is at k * T / N for T jobs; it moves to the
//!    nearest query boundary when that is within a tenth of a shard's share
//!    (|N * boundary - k * T| * 10 <= T), else it is floor(k * T / N). So shards keep whole
//!    queries wherever that costs at most 10% of balance (each query's baseline and plan
//!    are then computed once; 99 queries over 10 shards give 9 or 10 whole queries each),
//!    and split a query only when whole ones would unbalance the shards (4 queries over 3
//!    shards, 1 query over several shards).
//! The shard's jobs are selected before the resume filter, so a resume never moves jobs
//! between shards.

use std::fmt;
use std::str::FromStr;

use super::Job;

/// Name of the partition scheme recorded in shard.json; merge refuses other schemes.
pub const SCHEME: &str = "fnv1a64-query-order-snap10-v1";

/// Kubernetes Indexed Job: the pod's 0-based index. No total is given (N is the flag's).
pub const K8S_INDEX: &str = "JOB_COMPLETION_INDEX";
/// Slurm job arrays: this task's id, and the array's task count, min, max and step.
pub const SLURM_ID: &str = "SLURM_ARRAY_TASK_ID";
pub const SLURM_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";
pub const SLURM_MIN: &str = "SLURM_ARRAY_TASK_MIN";
pub const SLURM_MAX: &str = "SLURM_ARRAY_TASK_MAX";
pub const SLURM_STEP: &str = "SLURM_ARRAY_TASK_STEP";

/// Most shards an experiment can be split into: a larger N is a typo (or hostile); a
/// merge sizes its work by N (the partition does not: it is sized by the jobs).
pub const MAX_SHARDS: u32 = 100_000;

/// One shard of N: valid by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    index: u32,
    total: u32,
}

/// Why a shard could not be parsed or resolved (bad input, exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("--shard {value:?}: {why}; expected K/N with 1 <= K <= N (e.g. 2/3) or auto/N")]
    Format { value: String, why: String },
    #[error(
        "--shard auto/{total} needs the shard index from the scheduler, but neither \
         JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor SLURM_ARRAY_TASK_ID (Slurm array) \
         is set; pass --shard K/{total} instead"
    )]
    NoIndex { total: u32 },
    #[error("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_MIN is not; run the array under sbatch --array or pass --shard K/N")]
    NoSlurmMin,
    #[error("{var}={value:?} is not a whole number; {hint}")]
    BadVar { var: &'static str, value: String, hint: String },
    #[error("{var}={value} is out of range for --shard auto/{total}: {hint}")]
    OutOfRange { var: &'static str, value: String, total: u32, hint: String },
    #[error(
        "SLURM_ARRAY_TASK_COUNT={count} but --shard auto/{total}: submit the array with {total} \
         tasks (e.g. --array=0-{last}) or pass --shard auto/{count}",
        last = .total - 1
    )]
    CountMismatch { count: u32, total: u32 },
    #[error(
        "this Slurm array is stepped or sparse ({detail}); qt needs a contiguous range such as \
         --array=0-{last}: resubmit without a step",
        last = .total - 1
    )]
    Stepped { detail: String, total: u32 },
}

fn too_many(total: u32) -> String {
    format!("N = {total} is more than {MAX_SHARDS} shards; split the experiment into at most {MAX_SHARDS}")
}

fn format_err(value: &str, why: impl Into<String>) -> ShardError {
    ShardError::Format { value: value.into(), why: why.into() }
}

impl Shard {
    /// Shard `number` (1-based) of `total`.
    pub fn new(number: u32, total: u32) -> Result<Shard, ShardError> {
        if total == 0 {
            return Err(format_err(&format!("{number}/{total}"), "N must be at least 1"));
        }
        if total > MAX_SHARDS {
            return Err(format_err(&format!("{number}/{total}"), too_many(total)));
        }
        if !(1..=total).contains(&number) {
            return Err(format_err(
                &format!("{number}/{total}"),
                format!("K must be between 1 and {total}, inclusive (shards are numbered from 1)"),
            ));
        }
        Ok(Shard { index: number - 1, total })
    }

    /// 1-based, as users write it.
    pub fn number(&self) -> u32 {
        self.index + 1
    }

    /// 0-based.
    pub fn index(&self) -> u32 {
        self.index
    }

    pub fn total(&self) -> u32 {
        self.total
    }

    /// The shard's folder name under `<root>/<name>/shards/`: `2-of-3`.
    pub fn folder_name(&self) -> String {
        format!("{}-of-{}", self.number(), self.total)
    }

    /// The jobs of this shard, in run order (query, arm, worker). `query_ids[j.query]` is
    /// the id of a job's query.
    pub fn select(&self, jobs: &[Job], query_ids: &[String]) -> Vec<Job> {
        shard_jobs(jobs, query_ids, self.index, self.total).into_iter().map(|i| jobs[i]).collect()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.number(), self.total)
    }
}

fn parse_u32(s: &str, value: &str, what: &str) -> Result<u32, ShardError> {
    s.trim().parse::<u32>().map_err(|_| format_err(value, format!("{what} {s:?} is not a whole number")))
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let (k, n) = s.split_once('/').ok_or_else(|| format_err(s, "missing '/'"))?;
        Shard::new(parse_u32(k, s, "K")?, parse_u32(n, s, "N")?)
    }
}

/// The `--shard` flag: a fixed shard, or `auto/N` resolved from the scheduler's variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardArg {
    Fixed(Shard),
    Auto { total: u32 },
}

impl FromStr for ShardArg {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<ShardArg, ShardError> {
        match s.split_once('/') {
            Some((k, n)) if k.trim().eq_ignore_ascii_case("auto") => {
                let total = parse_u32(n, s, "N")?;
                if total == 0 {
                    return Err(format_err(s, "N must be at least 1"));
                }
                if total > MAX_SHARDS {
                    return Err(format_err(s, too_many(total)));
                }
                Ok(ShardArg::Auto { total })
            }
            _ => s.parse().map(ShardArg::Fixed),
        }
    }
}

impl ShardArg {
    /// The shard to run, and where its index came from (`JOB_COMPLETION_INDEX=1`), reading
    /// variables through `env` (in `qt`, `std::env::var`).
    pub fn resolve(&self, env: impl Fn(&str) -> Option<String>) -> Result<(Shard, String), ShardError> {
        let total = match *self {
            ShardArg::Fixed(s) => return Ok((s, "--shard".into())),
            ShardArg::Auto { total } => total,
        };
        let num = |var: &'static str, value: &str, hint: &str| {
            value.trim().parse::<u32>().map_err(|_| ShardError::BadVar { var, value: value.into(), hint: hint.into() })
        };
        if let Some(v) = env(K8S_INDEX) {
            let i = num(K8S_INDEX, &v, "the Kubernetes index is set by an Indexed Job")?;
            if i >= total {
                return Err(ShardError::OutOfRange {
                    var: K8S_INDEX,
                    value: v,
                    total,
                    hint: format!("Kubernetes indexes are 0-based; set completions: {total} in the Job"),
                });
            }
            return Ok((Shard { index: i, total }, format!("{K8S_INDEX}={i}")));
        }
        let Some(id) = env(SLURM_ID) else { return Err(ShardError::NoIndex { total }) };
        let hint = "it is set by sbatch --array";
        let id_n = num(SLURM_ID, &id, hint)?;
        if let Some(step) = env(SLURM_STEP).filter(|s| s.trim() != "1") {
            return Err(ShardError::Stepped { detail: format!("{SLURM_STEP}={step}"), total });
        }
        let min = match env(SLURM_MIN) {
            Some(m) => num(SLURM_MIN, &m, hint)?,
            None => return Err(ShardError::NoSlurmMin),
        };
        if let Some(c) = env(SLURM_COUNT) {
            let count = num(SLURM_COUNT, &c, hint)?;
            if count != total {
                return Err(ShardError::CountMismatch { count, total });
            }
            if let Some(m) = env(SLURM_MAX) {
                let max = num(SLURM_MAX, &m, hint)?;
                if max.checked_sub(min).map(|d| d + 1) != Some(count) {
                    return Err(ShardError::Stepped {
                        detail: format!("{SLURM_MIN}={min}, {SLURM_MAX}={max}, {SLURM_COUNT}={count}"),
                        total,
                    });
                }
            }
        }
        match id_n.checked_sub(min).filter(|i| *i < total) {
            Some(i) => Ok((Shard { index: i, total }, format!("{SLURM_ID}={id_n} ({SLURM_MIN}={min})"))),
            None => Err(ShardError::OutOfRange {
                var: SLURM_ID,
                value: id,
                total,
                hint: format!("with {SLURM_MIN}={min} the ids must be {min}..={}", min as u64 + total as u64 - 1),
            }),
        }
    }
}

/// 64-bit FNV-1a (documented constants, stable forever).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The jobs in partition order (query hash rank, then listing) and the positions where a
/// new query starts (with 0 and T): everything the cuts need, sized by the jobs, never by
/// N (which may be 100,000 for a handful of jobs).
struct Order {
    by_rank: Vec<usize>,
    bounds: Vec<u128>,
    t: u128,
}

impl Order {
    fn new(jobs: &[Job], query_ids: &[String]) -> Order {
        let mut order: Vec<usize> = (0..query_ids.len()).collect();
        order.sort_by_key(|&q| (fnv1a64(query_ids[q].as_bytes()), q));
        let mut rank = vec![0usize; query_ids.len()];
        for (pos, q) in order.iter().enumerate() {
            rank[*q] = pos;
        }
        let mut by_rank: Vec<usize> = (0..jobs.len()).collect();
        by_rank.sort_by_key(|&i| (rank[jobs[i].query], i));
        let t = jobs.len() as u128;
        let mut bounds = vec![0u128];
        for p in 1..by_rank.len() {
            if jobs[by_rank[p]].query != jobs[by_rank[p - 1]].query {
                bounds.push(p as u128);
            }
        }
        bounds.push(t);
        Order { by_rank, bounds, t }
    }

    /// Cut k of n (1 <= k < n): the first position of shard k (0-based). The ideal is
    /// k * t / n; the nearest query boundary (the lower one on a tie) when it is within a
    /// tenth of a share, else floor(k * t / n). Scaled by n: a boundary b is at n * b.
    fn cut(&self, k: u128, n: u128) -> u128 {
        let ideal = k * self.t;
        let i = self.bounds.partition_point(|b| n * b < ideal);
        let below = i.checked_sub(1).map(|j| self.bounds[j]);
        let above = self.bounds.get(i).copied();
        let dist = |b: u128| (n * b).abs_diff(ideal);
        let b = match (below, above) {
            (Some(lo), Some(hi)) => if dist(hi) < dist(lo) { hi } else { lo },
            (Some(b), None) | (None, Some(b)) => b,
            (None, None) => 0,
        };
        if dist(b) * 10 <= self.t { b } else { ideal / n }
    }

    /// The positions [start, end) of shard `index` of `n`. The cuts never decrease: a cut
    /// is within a tenth of a share (or one job, rounding down) of its ideal, and ideals
    /// are a whole share apart; so shard `index` holds exactly the positions between its
    /// two cuts.
    fn range(&self, index: u32, n: u32) -> std::ops::Range<usize> {
        let n = u128::from(n.max(1));
        let index = u128::from(index);
        let start = if index == 0 { 0 } else { self.cut(index, n) };
        let end = if index + 1 >= n { self.t } else { self.cut(index + 1, n) };
        start as usize..(end.max(start) as usize)
    }
}

/// The jobs of shard `index` (0-based) of `total`, as positions in `jobs`, ascending.
pub fn shard_jobs(jobs: &[Job], query_ids: &[String], index: u32, total: u32) -> Vec<usize> {
    let order = Order::new(jobs, query_ids);
    let mut mine = order.by_rank[order.range(index, total)].to_vec();
    mine.sort_unstable();
    mine
}

/// The owner (0-based shard index) of every job in `jobs`, by the rules in the module doc.
/// `jobs` is the whole experiment's job list (`spec::jobs`). Memory is sized by the jobs;
/// time by the jobs and N (one cut per shard, computed on the way, never stored).
pub fn partition(jobs: &[Job], query_ids: &[String], total: u32) -> Vec<u32> {
    let order = Order::new(jobs, query_ids);
    let n = u128::from(total.max(1));
    let next_cut = |s: u32| if u128::from(s) + 1 < n { order.cut(u128::from(s) + 1, n) } else { u128::MAX };
    let mut owners = vec![0u32; jobs.len()];
    let (mut shard, mut next) = (0u32, next_cut(0));
    for (p, &i) in order.by_rank.iter().enumerate() {
        while next <= p as u128 {
            shard += 1;
            next = next_cut(shard);
        }
        owners[i] = shard;
    }
    owners
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    fn jobs(nq: usize, workers: &[u32]) -> Vec<Job> {
        super::super::jobs_for(nq, workers)
    }

    fn ids(nq: usize) -> Vec<String> {
        (1..=nq).map(|i| i.to_string()).collect()
    }

    #[test]
    fn parsing_is_one_based_and_range_checked() {
        let s: Shard = "2/3".parse().unwrap();
        assert_eq!((s.number(), s.index(), s.total(), s.folder_name()), (2, 1, 3, "2-of-3".into()));
        assert_eq!(s.to_string(), "2/3");
        for bad in ["0/3", "4/3", "1/0", "3", "a/3", "1/b", "-1/3", ""] {
            let e = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(e.contains(&format!("{bad:?}")) && e.contains("K/N"), "{bad}: {e}");
        }
        assert_eq!("auto/4".parse::<ShardArg>().unwrap(), ShardArg::Auto { total: 4 });
        assert!("auto/0".parse::<ShardArg>().is_err());
        assert!("auto".parse::<ShardArg>().is_err());
        assert_eq!("1/1".parse::<ShardArg>().unwrap(), ShardArg::Fixed(Shard::new(1, 1).unwrap()));
    }

    #[test]
    fn auto_reads_kubernetes_then_slurm() {
        let auto = ShardArg::Auto { total: 3 };
        assert_eq!(auto.resolve(env_of(&[(K8S_INDEX, "0")])).unwrap().0.number(), 1);
        assert_eq!(auto.resolve(env_of(&[(K8S_INDEX, "2")])).unwrap().0.number(), 3);
        let e = auto.resolve(env_of(&[(K8S_INDEX, "3")])).unwrap_err().to_string();
        assert!(e.contains("JOB_COMPLETION_INDEX=\"3\"") || e.contains("JOB_COMPLETION_INDEX=3"), "{e}");
        assert!(auto.resolve(env_of(&[(K8S_INDEX, "x")])).unwrap_err().to_string().contains(K8S_INDEX));
        let e = auto.resolve(env_of(&[])).unwrap_err().to_string();
        assert!(e.contains(K8S_INDEX) && e.contains(SLURM_ID), "{e}");

        let slurm = |id: &str| {
            auto.resolve(env_of(&[(SLURM_ID, id), (SLURM_MIN, "1"), (SLURM_MAX, "3"), (SLURM_COUNT, "3")]))
        };
        assert_eq!(slurm("1").unwrap().0.number(), 1);
        assert_eq!(slurm("3").unwrap().0.number(), 3);
        assert!(slurm("4").unwrap_err().to_string().contains(SLURM_ID));
        assert!(slurm("0").unwrap_err().to_string().contains(SLURM_ID));
        let e = auto
            .resolve(env_of(&[(SLURM_ID, "0"), (SLURM_MIN, "0"), (SLURM_MAX, "3"), (SLURM_COUNT, "4")]))
            .unwrap_err();
        assert!(matches!(e, ShardError::CountMismatch { count: 4, total: 3 }), "{e}");
        // --array=1-5:2 gives ids 1,3,5: count 3 but max - min + 1 = 5.
        let stepped = [(SLURM_ID, "3"), (SLURM_MIN, "1"), (SLURM_MAX, "5"), (SLURM_COUNT, "3")];
        assert!(matches!(auto.resolve(env_of(&stepped)).unwrap_err(), ShardError::Stepped { .. }));
        let stepped = [(SLURM_ID, "3"), (SLURM_MIN, "1"), (SLURM_STEP, "2")];
        assert!(auto.resolve(env_of(&stepped)).unwrap_err().to_string().contains("SLURM_ARRAY_TASK_STEP=2"));
        assert!(auto.resolve(env_of(&[(SLURM_ID, "1")])).unwrap_err().to_string().contains(SLURM_MIN));
    }

    #[test]
    fn fnv1a64_matches_the_published_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    /// Property: for many shapes, the shards together hold every job exactly once, each
    /// is within 20% (+2 jobs) of an equal share, and queries stay whole when they divide
    /// evenly or when there are many more queries than shards.
    #[test]
    fn shards_cover_every_job_exactly_once_and_balance() {
        for nq in 1..=25 {
            for workers in [&[1][..], &[4][..], &[3, 2][..], &[20, 20, 1][..]] {
                let all = jobs(nq, workers);
                let per_query: usize = workers.iter().map(|w| *w as usize).sum();
                let t = all.len();
                for n in 1..=16usize {
                    let mut seen: BTreeMap<(usize, u32), u32> = BTreeMap::new();
                    let mut split = false;
                    for k in 1..=n as u32 {
                        let mine = Shard::new(k, n as u32).unwrap().select(&all, &ids(nq));
                        for j in &mine {
                            assert!(seen.insert((j.query, j.r#gen), k).is_none(), "job in two shards");
                        }
                        let dev = (n * mine.len()).abs_diff(t);
                        assert!(dev <= t / 5 + 2 * n, "nq={nq} w={workers:?} n={n} k={k}: {} jobs of {t}", mine.len());
                        let qs: std::collections::BTreeSet<usize> = mine.iter().map(|j| j.query).collect();
                        split |= mine.len() != qs.len() * per_query;
                    }
                    assert_eq!(seen.len(), t, "nq={nq} n={n}: every job once");
                    if nq % n == 0 || nq >= 5 * n {
                        assert!(!split, "nq={nq} w={workers:?} n={n}: whole queries expected");
                    }
                }
            }
        }
        // The documented example: 99 queries over 10 shards, 9 or 10 whole queries each.
        let all = jobs(99, &[20]);
        for k in 1..=10 {
            let mine = Shard::new(k, 10).unwrap().select(&all, &ids(99));
            assert!(mine.len() == 180 || mine.len() == 200, "{}", mine.len());
        }
    }

    #[test]
    fn partition_is_deterministic_and_order_independent_of_spec_listing() {
        let all = jobs(5, &[2]);
        let a = partition(&all, &ids(5), 2);
        assert_eq!(a, partition(&all, &ids(5), 2));
        // A query's owner depends on its id's hash rank, not on where it is listed.
        let rev: Vec<String> = ids(5).into_iter().rev().collect();
        let b = partition(&all, &rev, 2);
        for j in &all {
            let q_rev = 4 - j.query; // the same id sits at the mirrored position
            let other = all.iter().position(|x| x.query == q_rev && x.r#gen == j.r#gen).unwrap();
            assert_eq!(a[all.iter().position(|x| x == j).unwrap()], b[other]);
        }
    }

    /// The partition as first written (one stored cut per shard, each job counted against
    /// every cut) on the shared job order: the reference the job-sized partition must equal.
    fn partition_reference(jobs: &[Job], query_ids: &[String], total: u32) -> Vec<u32> {
        let n = u128::from(total.max(1));
        // The job order and query boundaries did not change; the cuts and owners did.
        let Order { by_rank, bounds, t } = Order::new(jobs, query_ids);
        let cuts: Vec<u128> = (1..n)
            .map(|k| {
                let ideal = k * t;
                let b = bounds.iter().copied().min_by_key(|b| (n * b).abs_diff(ideal)).unwrap_or(0);
                if (n * b).abs_diff(ideal) * 10 <= t { b } else { ideal / n }
            })
            .collect();
        let mut owners = vec![0u32; jobs.len()];
        for (p, i) in by_rank.into_iter().enumerate() {
            owners[i] = cuts.iter().filter(|c| **c <= p as u128).count() as u32;
        }
        owners
    }

    /// Property: for many shapes (queries, workers per arm, N up to the maximum), the
    /// job-sized partition and every shard's own selection equal the reference.
    #[test]
    fn the_job_sized_partition_equals_the_reference_for_many_shapes() {
        let shapes: [&[u32]; 6] = [&[1], &[2], &[3, 2], &[20], &[7, 1, 5], &[20, 20, 1]];
        let mut ns: Vec<u32> = (1..=45).collect();
        ns.extend([64, 99, 100, 101, 997, 4096, 65_537, MAX_SHARDS]);
        let mut compared = 0;
        for nq in 0..=14 {
            for workers in shapes {
                let all = jobs(nq, workers);
                let ids: Vec<String> = (0..nq).map(|i| format!("q{}", i * 7 + 3)).collect();
                for &n in &ns {
                    let want = partition_reference(&all, &ids, n);
                    assert_eq!(partition(&all, &ids, n), want, "nq={nq} w={workers:?} n={n}");
                    // Every shard of small N; for large N the first, last and those that own jobs.
                    let owners: std::collections::BTreeSet<u32> = want.iter().copied().collect();
                    let ks: Vec<u32> = if n <= 45 { (0..n).collect() } else { owners.into_iter().chain([0, 1, n / 2, n - 1]).collect() };
                    for k in ks {
                        let mine: Vec<usize> = (0..all.len()).filter(|&i| want[i] == k).collect();
                        assert_eq!(shard_jobs(&all, &ids, k, n), mine, "nq={nq} w={workers:?} n={n} k={k}");
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 10_000, "{compared}");
    }
}
