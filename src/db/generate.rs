//! Builds a TPC-DS database file with the `tpcdsgen` crate: rows are formatted as CSV by
//! tpcdsgen's own formatters (which handle dates, decimals and NULLs), written in chunks to
//! a scratch folder next to the output, and bulk-loaded with DuckDB's `COPY ... FROM`.
//! A generator thread writes the next chunk while DuckDB loads the previous one. The
//! scratch folder is `<path>.scratch-XXXX`, removed when the build ends.
//!
//! With a sample (`sample.rs`), dimension tables are generated in full and fact tables
//! only over the sampled source-row ranges (returns over their sales' ranges). The sparse
//! instance is a whole database thinned afterwards by `sparse.rs`'s SQL.
//!
//! This file does not decide *where* a database goes or whether it is trusted: the caller
//! passes a path it owns (a temp file, see `cache.rs`), and renames it when we return Ok.

use duckdb::Connection;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};
use tpcdsgen::config::{Session, SessionBuilder, Table};
use tpcdsgen::csv::*;
use tpcdsgen::row::*;

use super::DbError;
use super::sample::{GenSpec, SALES_SEGMENTS, sample_ranges};
use super::schema::{TPCDS_DDL, TPCDS_TABLES};

/// Lines per CSV chunk: bounds scratch disk use (two chunks exist at a time).
const CHUNK_LINES: u64 = 500_000;

/// What a finished build produced.
#[derive(Debug, Clone)]
pub struct BuildStats {
    /// Rows loaded per table.
    pub rows: BTreeMap<String, u64>,
    pub elapsed: Duration,
}

/// Benchmarks this build knows. Only TPC-DS for now.
pub fn check_benchmark(benchmark: &str) -> Result<(), DbError> {
    if benchmark.eq_ignore_ascii_case("tpcds") {
        Ok(())
    } else {
        Err(DbError::UnknownBenchmark(benchmark.to_string()))
    }
}

/// The smallest scale: tpcdsgen resolves scales in thousandths, and below this most
/// tables come out empty.
pub const MIN_SCALE: f64 = 0.001;

/// Scales must be finite and at least [`MIN_SCALE`] (fractions such as 0.01 are fine).
pub fn check_scale(scale: f64) -> Result<(), DbError> {
    if scale.is_finite() && scale >= MIN_SCALE {
        Ok(())
    } else {
        Err(DbError::BadScale(scale))
    }
}

/// Creates the 24 TPC-DS tables in a new DuckDB file at `path` and fills them.
/// `path` must not exist yet. The file is checkpointed and closed on success; on error
/// the caller removes it. `progress` shows one bar over the tables on stderr (indicatif
/// hides it when stderr is not a terminal).
pub fn build_tpcds(path: &Path, spec: &GenSpec, progress: bool) -> Result<BuildStats, DbError> {
    spec.check()?;
    let scale = spec.scale;
    let started = Instant::now();
    let session = SessionBuilder::new()
        .with_scale_factor(scale)
        .build()
        .map_err(|e| DbError::Generate(format!("tpcdsgen rejected scale {scale}: {e}")))?;
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Named after `path` so that a later builder of the same file removes it if we die.
    let prefix = format!(
        "{}.scratch-",
        path.file_name().unwrap_or_default().to_string_lossy()
    );
    let scratch = tempfile::Builder::new()
        .prefix(&prefix)
        .tempdir_in(parent)
        .map_err(|source| DbError::Io {
            path: parent.to_path_buf(),
            source,
        })?;

    let conn = Connection::open(path).map_err(|source| DbError::Query {
        what: format!("creating {}", path.display()),
        source,
    })?;
    conn.execute_batch(TPCDS_DDL)
        .map_err(|source| DbError::Query {
            what: "creating the TPC-DS tables".into(),
            source,
        })?;

    let bar = progress_bar(progress);
    let (tx, rx) = sync_channel::<Chunk>(1);
    let dir = scratch.path().to_path_buf();
    let sampling = spec.effective_sample().map(|s| (s, spec.instance));
    let counts_session = session.clone();
    let producer = std::thread::spawn(move || {
        for name in TPCDS_TABLES {
            write_table(&session, name, sampling, &dir, &tx)?;
        }
        Ok::<(), DbError>(())
    });

    let loaded = load_chunks(&conn, rx, &bar);
    let produced = producer
        .join()
        .unwrap_or_else(|_| Err(DbError::Generate("the tpcdsgen thread panicked".into())));
    let rows = loaded?;
    produced?;
    bar.finish_and_clear();
    if let Some(empty) = TPCDS_TABLES
        .iter()
        .find(|t| rows.get(**t).copied().unwrap_or(0) == 0)
    {
        return Err(DbError::Generate(format!(
            "{} leaves table {empty} empty; use a larger scale (such as 0.01) or sample",
            spec.label()
        )));
    }

    if let Some((fraction, instance)) = sampling {
        let count = |t: Table| counts_session.get_scaling().get_row_count(t);
        let sql = super::sample::concentrate_sql(
            count(Table::Customer),
            count(Table::Item),
            fraction,
            instance,
        );
        conn.execute_batch(&sql).map_err(|source| DbError::Query {
            what: "concentrating the sampled facts on a block of customers and items".into(),
            source,
        })?;
    }
    if spec.sparse {
        conn.execute_batch(&super::sparse::sparse_sql())
            .map_err(|source| DbError::Query {
                what: "thinning the facts into the sparse instance".into(),
                source,
            })?;
    }
    if spec.nulls {
        conn.execute_batch(&super::nulls::nulls_sql(spec.instance)).map_err(|source| DbError::Query {
            what: "setting the NULL corners".into(),
            source,
        })?;
    }
    conn.execute_batch("CHECKPOINT")
        .map_err(|source| DbError::Query {
            what: "checkpointing the new database".into(),
            source,
        })?;
    conn.close().map_err(|(_, source)| DbError::Query {
        what: format!("closing {}", path.display()),
        source,
    })?;
    Ok(BuildStats {
        rows,
        elapsed: started.elapsed(),
    })
}

/// Loads chunks until the producer is done; returns the rows loaded per table. On error
/// it returns early, dropping `rx`, which makes the producer stop at its next send.
fn load_chunks(
    conn: &Connection,
    rx: Receiver<Chunk>,
    bar: &ProgressBar,
) -> Result<BTreeMap<String, u64>, DbError> {
    let mut rows: BTreeMap<String, u64> = BTreeMap::new();
    for chunk in rx {
        let total = rows.entry(chunk.table.to_string()).or_default();
        bar.set_message(format!("{} ({} rows)", chunk.table, *total));
        load_chunk(conn, &chunk)?;
        *total += chunk.lines;
        if chunk.last {
            bar.inc(1);
        }
    }
    Ok(rows)
}

fn progress_bar(show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(
        Some(TPCDS_TABLES.len() as u64),
        ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} tables  {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// One CSV file ready to load.
struct Chunk {
    table: &'static str,
    path: PathBuf,
    lines: u64,
    /// The table's final chunk (possibly empty).
    last: bool,
}

fn load_chunk(conn: &Connection, chunk: &Chunk) -> Result<(), DbError> {
    if chunk.lines > 0 {
        let file = chunk.path.display().to_string().replace('\'', "''");
        let sql = format!(
            "COPY {} FROM '{file}' (FORMAT csv, HEADER false, DELIMITER ',', QUOTE '\"', \
             ESCAPE '\"', NULL '')",
            chunk.table
        );
        conn.execute_batch(&sql).map_err(|source| DbError::Query {
            what: format!("loading generated rows into {}", chunk.table),
            source,
        })?;
    }
    // A leftover chunk would only waste space in the scratch folder, removed at the end.
    let _ = std::fs::remove_file(&chunk.path);
    Ok(())
}

/// Writes rows to numbered CSV chunk files and hands each full one to the loader.
struct ChunkWriter<'a> {
    table: &'static str,
    dir: &'a Path,
    tx: &'a SyncSender<Chunk>,
    seq: u32,
    lines: u64,
    out: Option<(PathBuf, BufWriter<File>)>,
}

impl<'a> ChunkWriter<'a> {
    fn new(table: &'static str, dir: &'a Path, tx: &'a SyncSender<Chunk>) -> Self {
        ChunkWriter {
            table,
            dir,
            tx,
            seq: 0,
            lines: 0,
            out: None,
        }
    }

    fn line(&mut self, row: impl std::fmt::Display) -> Result<(), DbError> {
        if self.out.is_none() {
            self.seq += 1;
            let path = self.dir.join(format!("{}_{:04}.csv", self.table, self.seq));
            let file = File::create(&path).map_err(|source| DbError::Io {
                path: path.clone(),
                source,
            })?;
            self.out = Some((path, BufWriter::with_capacity(1 << 20, file)));
        }
        if let Some((path, w)) = self.out.as_mut() {
            writeln!(w, "{row}").map_err(|source| DbError::Io {
                path: path.clone(),
                source,
            })?;
        }
        self.lines += 1;
        if self.lines >= CHUNK_LINES {
            self.send(false)?;
        }
        Ok(())
    }

    fn send(&mut self, last: bool) -> Result<(), DbError> {
        let path = match self.out.take() {
            Some((path, mut w)) => {
                w.flush().map_err(|source| DbError::Io {
                    path: path.clone(),
                    source,
                })?;
                path
            }
            None => self.dir.join(format!("{}_empty.csv", self.table)),
        };
        let chunk = Chunk {
            table: self.table,
            path,
            lines: self.lines,
            last,
        };
        self.lines = 0;
        // The loader hung up: it failed and reports its own error.
        self.tx
            .send(chunk)
            .map_err(|_| DbError::Generate("loading stopped".into()))
    }

    fn finish(mut self) -> Result<(), DbError> {
        self.send(true)
    }
}

/// Generates one table. Returns generators replay the sales table, so they take the sales
/// table's row count (tpcdsgen's documented usage). `sampling` = (fraction, instance)
/// restricts fact tables to the sampled source rows.
fn write_table(
    session: &Session,
    name: &'static str,
    sampling: Option<(f64, u32)>,
    dir: &Path,
    tx: &SyncSender<Chunk>,
) -> Result<(), DbError> {
    let mut w = ChunkWriter::new(name, dir, tx);
    let count = |t: Table| session.get_scaling().get_row_count(t);
    let s = || session.clone();
    // Sales: a fixed number of segments. Inventory: one segment per (warehouse, week), so
    // the same sampled items appear in every week and warehouse.
    let segment_len = |t: Table| match t {
        Table::Inventory => session.get_scaling().get_id_count(Table::Item).max(1),
        _ => count(t).div_ceil(SALES_SEGMENTS).max(1),
    };
    macro_rules! emit {
        ($gen:ident, $csv:ident, $table:expr) => {{
            for row in $gen::new(s(), count($table)) {
                w.line($csv::new(&row))?;
            }
        }};
    }
    macro_rules! emit_fact {
        ($gen:ident, $csv:ident, $table:expr) => {{
            let total = count($table);
            match sampling {
                None => emit!($gen, $csv, $table),
                Some((fraction, instance)) => {
                    for r in sample_ranges(total, segment_len($table), fraction, instance) {
                        let mut g = $gen::new(s(), total);
                        g.set_source_row_range(*r.start(), *r.end());
                        for row in g {
                            w.line($csv::new(&row))?;
                        }
                    }
                }
            }
        }};
    }
    match name {
        "call_center" => emit!(CallCenterRowGenerator, CallCenterCsv, Table::CallCenter),
        "catalog_page" => emit!(CatalogPageRowGenerator, CatalogPageCsv, Table::CatalogPage),
        "customer_address" => {
            emit!(
                CustomerAddressRowGenerator,
                CustomerAddressCsv,
                Table::CustomerAddress
            )
        }
        "customer_demographics" => emit!(
            CustomerDemographicsRowGenerator,
            CustomerDemographicsCsv,
            Table::CustomerDemographics
        ),
        "customer" => emit!(CustomerRowGenerator, CustomerCsv, Table::Customer),
        "date_dim" => emit!(DateDimRowGenerator, DateDimCsv, Table::DateDim),
        "household_demographics" => emit!(
            HouseholdDemographicsRowGenerator,
            HouseholdDemographicsCsv,
            Table::HouseholdDemographics
        ),
        "income_band" => emit!(IncomeBandRowGenerator, IncomeBandCsv, Table::IncomeBand),
        "item" => emit!(ItemRowGenerator, ItemCsv, Table::Item),
        "promotion" => emit!(PromotionRowGenerator, PromotionCsv, Table::Promotion),
        "reason" => emit!(ReasonRowGenerator, ReasonCsv, Table::Reason),
        "ship_mode" => emit!(ShipModeRowGenerator, ShipModeCsv, Table::ShipMode),
        "store" => emit!(StoreRowGenerator, StoreCsv, Table::Store),
        "time_dim" => emit!(TimeDimRowGenerator, TimeDimCsv, Table::TimeDim),
        "warehouse" => emit!(WarehouseRowGenerator, WarehouseCsv, Table::Warehouse),
        "web_page" => emit!(WebPageRowGenerator, WebPageCsv, Table::WebPage),
        "web_site" => emit!(WebSiteRowGenerator, WebSiteCsv, Table::WebSite),
        "inventory" => emit_fact!(InventoryRowGenerator, InventoryCsv, Table::Inventory),
        "store_returns" => emit_fact!(StoreReturnsRowGenerator, StoreReturnsCsv, Table::StoreSales),
        "store_sales" => emit_fact!(StoreSalesRowGenerator, StoreSalesCsv, Table::StoreSales),
        "catalog_returns" => {
            emit_fact!(
                CatalogReturnsRowGenerator,
                CatalogReturnsCsv,
                Table::CatalogSales
            )
        }
        "catalog_sales" => emit_fact!(
            CatalogSalesRowGenerator,
            CatalogSalesCsv,
            Table::CatalogSales
        ),
        "web_returns" => emit_fact!(WebReturnsRowGenerator, WebReturnsCsv, Table::WebSales),
        "web_sales" => emit_fact!(WebSalesRowGenerator, WebSalesCsv, Table::WebSales),
        other => return Err(DbError::Generate(format!("no generator for table {other}"))),
    }
    w.finish()
}
