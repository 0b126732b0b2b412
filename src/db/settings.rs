//! Session settings beyond `threads` and `memory_limit`, for engines that have them:
//! PostgreSQL's `work_mem`, `max_parallel_workers_per_gather` and `temp_file_limit`
//! (`[validation]` keys). DuckDB has no such settings (its `memory_limit` and `threads`
//! cover them) and ignores these.
//!
//! Sizes are PostgreSQL's: a number and a unit (`B`, `kB`, `MB`, `GB`, `TB`, any case,
//! 1024-based as PostgreSQL reads them), or a bare number of kB; held in kB.

/// The PostgreSQL settings of every sandboxed session (None = the default named on each).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct EngineSettings {
    /// `work_mem` in kB (per sort or hash node); default [`DEFAULT_WORK_MEM_KB`].
    pub work_mem_kb: Option<u64>,
    /// Default: `validation.threads` - 1 (one thread = no parallel workers).
    pub max_parallel_workers_per_gather: Option<u32>,
    /// `temp_file_limit` in kB (-1 = none). Only a superuser may set it, so it is not set
    /// by the session: the role's value (`ALTER ROLE .. SET`, which `qt db load` does) must
    /// equal it, else the session does not open. Default: whatever the role has.
    pub temp_file_limit_kb: Option<i64>,
}

/// 64MB, the `work_mem` sessions get when the spec names none.
pub const DEFAULT_WORK_MEM_KB: u64 = 64 * 1024;
/// PostgreSQL's own bounds (guc_tables.c): work_mem 64kB..MAX_KILOBYTES,
/// max_parallel_workers_per_gather 0..1024, temp_file_limit -1..MAX_KILOBYTES.
pub const MIN_WORK_MEM_KB: u64 = 64;
pub const MAX_KILOBYTES: u64 = i32::MAX as u64;
pub const MAX_PARALLEL_WORKERS: u32 = 1024;

/// A PostgreSQL size (`64MB`, `512 kB`, `1GB`, `4096` = kB) in kB. Fractions round to
/// the nearest kB like PostgreSQL's.
pub fn parse_pg_size_kb(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = (&t[..split], t[split..].trim());
    let value: f64 = num.parse().map_err(|_| format!("{text:?} does not start with a number"))?;
    let kb_per_unit = match unit.to_ascii_lowercase().as_str() {
        "" | "kb" => 1.0,
        "b" => 1.0 / 1024.0,
        "mb" => 1024.0,
        "gb" => 1024.0 * 1024.0,
        "tb" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (PostgreSQL's are B, kB, MB, GB, TB)")),
    };
    let kb = (value * kb_per_unit).round();
    if !kb.is_finite() || kb > MAX_KILOBYTES as f64 {
        return Err(format!("{text:?} is more than PostgreSQL's largest size ({MAX_KILOBYTES} kB, about 2 TB)"));
    }
    Ok(kb as u64)
}

/// A `temp_file_limit` value: a size, or `-1` (no limit, PostgreSQL's spelling).
pub fn parse_temp_file_limit_kb(text: &str) -> Result<i64, String> {
    if text.trim() == "-1" {
        return Ok(-1);
    }
    parse_pg_size_kb(text).map(|kb| kb as i64)
}

/// A size in kB as PostgreSQL shows it (`64MB`, `200MB`, `1500kB`, `-1`).
pub fn show_kb(kb: i64) -> String {
    if kb < 0 {
        return "-1".into();
    }
    for (unit, f) in [("TB", 1i64 << 30), ("GB", 1 << 20), ("MB", 1 << 10)] {
        if kb >= f && kb % f == 0 {
            return format!("{}{unit}", kb / f);
        }
    }
    format!("{kb}kB")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_sizes() {
        assert_eq!(parse_pg_size_kb("64MB"), Ok(65536));
        assert_eq!(parse_pg_size_kb(" 512 kB "), Ok(512));
        assert_eq!(parse_pg_size_kb("4096"), Ok(4096));
        assert_eq!(parse_pg_size_kb("1gb"), Ok(1 << 20));
        assert_eq!(parse_pg_size_kb("1.5MB"), Ok(1536));
        assert_eq!(parse_temp_file_limit_kb("-1"), Ok(-1));
        for bad in ["lots", "64 MiB", "", "MB", "-5MB", "3TB"] {
            assert!(parse_pg_size_kb(bad).is_err(), "{bad}");
        }
        assert_eq!(show_kb(65536), "64MB");
        assert_eq!(show_kb(3 << 20), "3GB");
        assert_eq!(show_kb(1500), "1500kB");
        assert_eq!(show_kb(-1), "-1");
    }
}
