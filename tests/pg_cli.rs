//! The PostgreSQL engine end to end, through the `qt` binary on a private throwaway
//! cluster: `qt db load` copies the generated TPC-DS sample (scale 0.01) into PostgreSQL
//! and prints the SELECT-only URL; `qt db survey` and `qt validate` take that URL where
//! they take a DuckDB file, with the queries in PostgreSQL's dialect from
//! ../shared/tpcds/queries-postgres; bad input (unreachable server, wrong password, a role
//! that can write) is exit 2 naming the URL without the password.
//! Without PostgreSQL (or the query folders) each test prints a "skipped" line.

mod common;
mod pg_support;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::qt;

fn pg_queries() -> Option<PathBuf> {
    let dir = common::tpcds_queries()?.join("../queries-postgres");
    if dir.join("query_1.sql").exists() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared/tpcds/queries-postgres not found");
        None
    }
}

/// The TPC-DS sample loaded once into database `tpcds`; returns the reader's URL.
fn loaded(test: &str) -> Option<(&'static pg_support::Cluster, String)> {
    let Some(c) = pg_support::cluster() else {
        pg_support::skipped(test);
        return None;
    };
    static URL: OnceLock<String> = OnceLock::new();
    let url = URL.get_or_init(|| {
        let sample = qt::db::ensure_generated_in(&common::cache_dir(), "tpcds", 0.01, false).expect("sample").path;
        let out = qt()
            .args(["db", "load", "--engine", "postgres", "--url", &c.admin_url("tpcds"), "--from"])
            .arg(&sample)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "qt db load: {stderr}");
        assert!(stderr.contains("loaded store_sales"), "{stderr}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    });
    Some((c, url.clone()))
}

#[test]
fn load_gives_a_select_only_copy_of_the_sample() {
    let Some((c, url)) = loaded("load_gives_a_select_only_copy_of_the_sample") else { return };
    assert!(url.starts_with("postgresql://qt_reader@"), "{url}");
    // Same rows as the DuckDB file, primary keys in place, the reader can only read.
    let sample = qt::db::ensure_generated_in(&common::cache_dir(), "tpcds", 0.01, false).unwrap().path;
    let duck = qt::db::Target::from(&sample).fingerprint().unwrap();
    let pg = qt::db::Target::parse(&url, None).unwrap().fingerprint().unwrap();
    assert_eq!(duck.tables, pg.tables);
    let keys = c.psql("tpcds", "SELECT count(*) FROM pg_constraint WHERE contype = 'p' AND connamespace = 'public'::regnamespace");
    assert_eq!(keys.trim(), "24");
    qt::db::Target::parse(&url, None).unwrap().check_open().expect("qt_reader is SELECT-only");
    // A second load refuses to overwrite without --replace.
    let out = qt().args(["db", "load", "--url", &c.admin_url("tpcds"), "--from"]).arg(&sample).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--replace"));
}

#[test]
fn survey_and_validate_take_a_postgres_url() {
    let Some((_, url)) = loaded("survey_and_validate_take_a_postgres_url") else { return };
    let Some(q) = pg_queries() else { return };
    let files: Vec<PathBuf> = ["query_1.sql", "query_3.sql", "query_96.sql"].iter().map(|f| q.join(f)).collect();
    let out = qt().args(["db", "survey", "--db", &url]).args(&files).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("query_1.sql") && text.contains("3 statements"), "{text}");
    assert!(!text.contains("error:"), "{text}");
    // q1 against itself: an A/A pass; a wrong rewrite: validation_failed.
    let dir = tempfile::tempdir().unwrap();
    let q1 = std::fs::read_to_string(q.join("query_1.sql")).unwrap();
    let wrong = q1.replacen("ctr_total_return > (select avg(ctr_total_return)*1.2", "ctr_total_return > (select avg(ctr_total_return)*1.1", 1);
    assert_ne!(wrong, q1, "the edit applies");
    let (o, w) = (dir.path().join("o.sql"), dir.path().join("w.sql"));
    std::fs::write(&o, &q1).unwrap();
    std::fs::write(&w, &wrong).unwrap();
    let out = qt().args(["validate", "--rounds", "2", "--db", &url]).arg(&o).arg(&o).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("pass"), "{text}");
    let out = qt().args(["validate", "--rounds", "0", "--db", &url, "--json"]).arg(&o).arg(&w).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json verdict");
    assert_eq!(v["status"], "validation_failed", "{v}");
}

#[test]
fn bad_postgres_input_is_exit_2_without_the_password() {
    let Some(c) = pg_support::cluster() else {
        pg_support::skipped("bad_postgres_input_is_exit_2_without_the_password");
        return;
    };
    c.psql("postgres", "DO $$ BEGIN CREATE ROLE pw_user LOGIN PASSWORD 'right-horse'; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q.sql");
    std::fs::write(&q, "select 1").unwrap();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cases = [
        (format!("postgresql://pw_user@127.0.0.1:{free}/postgres"), "s3cret-pass-1", "connect"),
        (c.tcp_url("pw_user", "postgres"), "wrong-battery-2", "password"),
        (c.admin_url("postgres"), "unused-staple-3", "superuser"),
    ];
    for (url, password, expect) in cases {
        let out = qt().env("PGPASSWORD", password).args(["validate", "--db", &url]).arg(&q).arg(&q).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{url}: {err}");
        assert!(err.to_lowercase().contains(expect), "{url}: {err}");
        assert!(!err.contains(password), "{url}: the password leaked: {err}");
        // The URL is named (its host part at least).
        assert!(err.contains("postgres"), "{err}");
        let out = qt().env("PGPASSWORD", password).args(["db", "survey", "--db", &url]).arg(&q).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "survey {url}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains(password));
    }
    // A password typed into the URL is not echoed either.
    let url = format!("postgresql://pw_user:typed-in-url-4@127.0.0.1:{free}/postgres");
    let out = qt().args(["validate", "--db", &url]).arg(&q).arg(&q).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("typed-in-url-4"));
}

/// An offline spec (replayed answers) on the loaded PostgreSQL database.
fn pg_spec(dir: &std::path::Path, url: &str, files: &[&str]) -> PathBuf {
    let text = common::patched(
        common::offline_spec(dir, "pg_run", files),
        &[(
            "generate = { benchmark = \"tpcds\", scale = 0.01 }",
            &format!("engine = \"postgres\"\nurl = \"{url}\""),
        )],
    );
    common::write_spec(dir, "pg_run.toml", &text)
}

#[test]
fn a_run_validates_on_postgres_with_its_dialect() {
    let Some((_, url)) = loaded("a_run_validates_on_postgres_with_its_dialect") else { return };
    let dir = tempfile::tempdir().unwrap();
    let spec = pg_spec(dir.path(), &url, &["@REPO@/queries/demo/demo1.sql"]);
    let out = qt().arg("run").arg(&spec).arg("--quiet").output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let config = walk(&dir.path().join("out"))
        .into_iter()
        .find(|p| p.ends_with("config.json"))
        .and_then(|p| p.parent().map(PathBuf::from))
        .expect("a run folder with config.json");
    let cfg: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(config.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["engine"], "postgres", "{cfg}");
    assert!(cfg["engine_version"].as_str().unwrap_or("").contains("PostgreSQL"), "{cfg}");
    assert!(!cfg.to_string().contains("password"), "{cfg}");
    // Every generation was judged on PostgreSQL; the good rewrite passes.
    let verdicts: Vec<serde_json::Value> = walk(&dir.path().join("out"))
        .into_iter()
        .filter(|p| p.ends_with("validation.json"))
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect();
    assert!(!verdicts.is_empty(), "{stdout}{stderr}");
    assert!(verdicts.iter().any(|v| v["status"] == "pass"), "{verdicts:?}");
    // Prompts name the engine's dialect.
    let prompts: Vec<String> = walk(&dir.path().join("out"))
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|f| f.to_string_lossy().starts_with("prompt")))
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    assert!(!prompts.is_empty());
    assert!(prompts.iter().all(|p| p.contains("faster on PostgreSQL") && !p.contains("faster on DuckDB")), "{}", prompts[0]);
    // The same experiment on DuckDB: qt compare says the engines differ, and compares
    // only when asked.
    let duck_dir = tempfile::tempdir().unwrap();
    let duck_spec = common::write_spec(
        duck_dir.path(),
        "pg_run.toml",
        &common::offline_spec(duck_dir.path(), "pg_run", &["@REPO@/queries/demo/demo1.sql"]),
    );
    let out = qt().arg("run").arg(&duck_spec).arg("--quiet").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let run_of = |d: &std::path::Path| {
        walk(d).into_iter().find(|p| p.ends_with("config.json")).and_then(|p| p.parent().map(PathBuf::from)).unwrap()
    };
    let (a, b) = (run_of(&dir.path().join("out")), run_of(&duck_dir.path().join("out")));
    let out = qt().arg("compare").arg(&a).arg(&b).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("postgres") && err.contains("duckdb") && err.contains("--across-engines"), "{err}");
    let out = qt().arg("compare").arg(&a).arg(&b).arg("--across-engines").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_run_on_postgres_missing_a_table_stops_before_any_llm_call() {
    let Some((_, url)) = loaded("a_run_on_postgres_missing_a_table_stops_before_any_llm_call") else { return };
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q_missing.sql");
    std::fs::write(&q, "select count(*) from no_such_table").unwrap();
    let spec = pg_spec(dir.path(), &url, &[&q.display().to_string()]);
    let out = qt().arg("run").arg(&spec).arg("--quiet").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no_such_table"), "{stderr}");
    assert!(stderr.contains("qt_reader@"), "the URL is named: {stderr}");
    assert!(walk(&dir.path().join("out")).iter().all(|p| !p.ends_with("response.txt")), "no LLM answer recorded");
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn every_postgres_dialect_query_parses_and_prepares_on_the_sample() {
    let Some((_, url)) = loaded("every_postgres_dialect_query_parses_and_prepares_on_the_sample") else { return };
    let Some(q) = pg_queries() else { return };
    let db = qt::db::Target::parse(&url, None).unwrap();
    let mut files: Vec<PathBuf> = common::sorted_entries(&q, |p| p.extension().is_some_and(|e| e == "sql"));
    files.retain(|f| f.file_name().is_some_and(|n| n.to_string_lossy().starts_with("query_")));
    assert!(files.len() >= 99, "{}", files.len());
    let mut bad = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, sql) in qt::db::split_statements(&text).into_iter().enumerate() {
            // qt's DAG parser (prompts, patterns) and PostgreSQL's own parser (the gate).
            if let Err(e) = qt::dag::parse_first_dag_for(&sql, qt::db::Engine::Postgres) {
                bad.push(format!("{} #{}: dag: {e}", f.display(), i + 1));
            }
            if let Err(e) = db.gate(&sql) {
                bad.push(format!("{} #{}: gate: {e}", f.display(), i + 1));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn a_second_database_is_another_instance() {
    let Some((c, url)) = loaded("a_second_database_is_another_instance") else { return };
    let Some(q) = pg_queries() else { return };
    // The tiny sample (different rows) in a second database, loaded the same way.
    let tiny = qt::db::ensure_generated_in(&common::cache_dir(), "tpcds", 0.01, false).unwrap().path;
    let out = qt().args(["db", "load", "--engine", "postgres", "--url", &c.admin_url("tpcds_b"), "--from"]).arg(&tiny).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let url_b = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(url_b.contains("/tpcds_b?"), "{url_b}");
    let dir = tempfile::tempdir().unwrap();
    let q3 = std::fs::read_to_string(q.join("query_3.sql")).unwrap();
    let o = dir.path().join("o.sql");
    std::fs::write(&o, &q3).unwrap();
    let out = qt().args(["validate", "--rounds", "0", "--json", "--db", &url, "--db", &url_b]).arg(&o).arg(&o).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    assert_eq!(v["status"], "pass", "{v}");
    let text = v.to_string();
    assert!(text.contains("tpcds_b"), "the second instance is named: {v}");
}

/// `[validation]` work_mem / max_parallel_workers_per_gather reach the sessions of a run
/// (config.json records them as the server shows them); a temp_file_limit the role does
/// not have stops the run before any LLM call, naming the spec's line and the fix.
#[test]
fn validation_settings_reach_postgres_sessions() {
    let Some((_, url)) = loaded("validation_settings_reach_postgres_sessions") else { return };
    let dir = tempfile::tempdir().unwrap();
    let spec = pg_spec(dir.path(), &url, &["@REPO@/queries/demo/demo1.sql"]);
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(&spec, text.replace("warmup = 0\n", "warmup = 0\nwork_mem = \"3MB\"\nmax_parallel_workers_per_gather = 1\n"))
        .unwrap();
    let out = qt().arg("run").arg(&spec).arg("--quiet").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let config = walk(&dir.path().join("out")).into_iter().find(|p| p.ends_with("config.json")).expect("config.json");
    let cfg: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(config).unwrap()).unwrap();
    assert_eq!(cfg["engine_settings"]["work_mem"], "3MB", "{cfg}");
    assert_eq!(cfg["engine_settings"]["max_parallel_workers_per_gather"], "1", "{cfg}");
    assert_eq!(cfg["engine_settings"]["temp_file_limit"], "10GB", "qt db load's, on the role: {cfg}");
    assert!(cfg["effective_spec"].as_str().unwrap().contains("work_mem = \"3MB\""), "{cfg}");

    let dir = tempfile::tempdir().unwrap();
    let spec = pg_spec(dir.path(), &url, &["@REPO@/queries/demo/demo1.sql"]);
    let text = std::fs::read_to_string(&spec).unwrap().replace("warmup = 0\n", "warmup = 0\ntemp_file_limit = \"1GB\"\n");
    std::fs::write(&spec, &text).unwrap();
    let line = text[..text.find("temp_file_limit").unwrap()].matches('\n').count() + 1;
    let out = qt().arg("run").arg(&spec).arg("--quiet").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("pg_run.toml:{line}:")), "{stderr}");
    assert!(stderr.contains("ALTER ROLE") && stderr.contains("1GB") && stderr.contains("10GB"), "{stderr}");
    assert!(walk(&dir.path().join("out")).iter().all(|p| !p.ends_with("response.txt")), "no LLM answer recorded");
}

/// Schemas as instances: one database, two schemas holding different rows, each named by
/// its URL (`options=-csearch_path%3Dname`); a candidate must agree on both, and a wrong
/// one that only the second schema's data exposes fails there.
#[test]
fn a_schema_is_another_instance() {
    let Some(c) = pg_support::cluster() else {
        pg_support::skipped("a_schema_is_another_instance");
        return;
    };
    c.psql("postgres", "CREATE DATABASE schemas");
    c.psql(
        "schemas",
        "CREATE TABLE public.t (a int, g int); INSERT INTO public.t SELECT i, i % 3 FROM generate_series(1, 10) i;
         CREATE SCHEMA other; CREATE TABLE other.t (a int, g int); INSERT INTO other.t SELECT i, i % 3 FROM generate_series(5, 40) i;
         CREATE ROLE schema_reader LOGIN;
         REVOKE CREATE, TEMPORARY ON DATABASE schemas FROM PUBLIC; REVOKE CREATE ON SCHEMA public FROM PUBLIC;
         GRANT USAGE ON SCHEMA public, other TO schema_reader;
         GRANT SELECT ON ALL TABLES IN SCHEMA public, other TO schema_reader;",
    );
    let url = c.url("schema_reader", "schemas");
    let url_other = format!("{url}&options=-csearch_path%3Dother");
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, sql: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, sql).unwrap();
        p
    };
    let o = write("o.sql", "SELECT g, count(*) AS n FROM t WHERE a > 3 GROUP BY g ORDER BY g");
    let good = write("good.sql", "SELECT g, count(a) AS n FROM t WHERE NOT a <= 3 GROUP BY g ORDER BY g");
    // Right on public (no a above 10 there), wrong on `other`.
    let wrong = write("wrong.sql", "SELECT g, count(*) AS n FROM t WHERE a > 3 AND a <= 10 GROUP BY g ORDER BY g");
    let verdict = |cand: &PathBuf, dbs: &[&str]| {
        let mut cmd = qt();
        cmd.args(["validate", "--rounds", "0", "--json"]);
        for d in dbs {
            cmd.args(["--db", d]);
        }
        let out = cmd.arg(&o).arg(cand).output().unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .unwrap_or_else(|_| panic!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    };
    assert_eq!(verdict(&wrong, &[&url])["status"], "pass", "public alone cannot tell");
    let v = verdict(&good, &[&url, &url_other]);
    assert_eq!(v["status"], "pass", "{v}");
    assert!(v.to_string().contains("schemas/other (postgres)"), "the schema's instance is named: {v}");
    let v = verdict(&wrong, &[&url, &url_other]);
    assert_eq!(v["status"], "validation_failed", "{v}");
    assert!(v.to_string().contains("schemas/other"), "the failing instance is named: {v}");
}
