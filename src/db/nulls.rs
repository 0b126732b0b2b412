//! NULL corners: a whole (small) TPC-DS database where every fact is kept but a share of
//! the values a rewrite may wrongly assume present are NULL. The sparse instance
//! (`sparse.rs`) also has NULL keys, but it keeps so few facts that most queries return
//! nothing there, so NULL-sensitive rewrites (`count(*)` -> `count(col)` over an outer
//! join, `NOT EXISTS` -> `NOT IN`, a dropped `COALESCE`) slipped through: the rows that
//! reach a result never held a NULL. Here they do:
//! - about one fact row in [`NULL_ONE_IN`] loses each nullable foreign key (a different
//!   share of rows per key), returns likewise;
//! - each measure (quantity, costs, prices, amounts, profit) is NULL in about one sales row
//!   in [`MEASURE_NULL_ONE_IN`];
//! - about one customer in [`NAME_NULL_ONE_IN`] has no first name, another no last name.
//!
//! Which rows lose which value is DuckDB's `hash` of (ticket, item, column number, the
//! instance number as salt): keys
//! are nulled independently of each other (a row that lost its promotion usually keeps the
//! keys of its inner joins, so it reaches the result), and a rebuild with the same qt (same
//! DuckDB) gives the same database. Declared NOT NULL columns (item keys, ticket and order
//! numbers) are never nulled. This file
//! only writes SQL; `generate.rs` runs it after the load.

use super::sparse::{FACTS, RETURNS};

/// The recipe's version, part of the cache key: a changed recipe is a new database.
pub const RECIPE: u32 = 3;
/// Null each nullable foreign key in about one row in this many.
pub const NULL_ONE_IN: u32 = 8;
/// Null each measure in about one fact row in this many.
pub const MEASURE_NULL_ONE_IN: u32 = 16;
/// Null a customer's first (or last) name in about one customer in this many.
pub const NAME_NULL_ONE_IN: u32 = 6;

/// The measures every sales table has (`ss_`, `cs_`, `ws_` prefix).
const MEASURES: [&str; 13] = [
    "quantity", "wholesale_cost", "list_price", "sales_price", "ext_discount_amt", "ext_sales_price",
    "ext_wholesale_cost", "ext_list_price", "ext_tax", "coupon_amt", "net_paid", "net_paid_inc_tax", "net_profit",
];

/// The statements that give a freshly loaded database its NULL corners. `salt` (the
/// instance number) picks other rows in each instance, so two instances with NULL corners
/// cover more combinations than one.
pub fn nulls_sql(salt: u32) -> String {
    let mut sql = String::new();
    for (table, ticket, item, fks, _) in FACTS {
        keys(&mut sql, table, ticket, item, fks, salt);
        let prefix = &ticket[..2];
        for (i, m) in MEASURES.iter().enumerate() {
            sql.push_str(&format!(
                "UPDATE {table} SET {prefix}_{m} = NULL WHERE hash({ticket}, {item}, {}, {salt}) % {MEASURE_NULL_ONE_IN} = 0;\n",
                100 + i
            ));
        }
    }
    for (table, ticket, item, _, _, _, fks) in RETURNS {
        keys(&mut sql, table, ticket, item, fks, salt);
    }
    sql.push_str(&format!(
        "UPDATE customer SET c_first_name = NULL WHERE hash(c_customer_sk, 1, {salt}) % {NAME_NULL_ONE_IN} = 0;\n\
         UPDATE customer SET c_last_name = NULL WHERE hash(c_customer_sk, 2, {salt}) % {NAME_NULL_ONE_IN} = 0;\n"
    ));
    sql
}

fn keys(sql: &mut String, table: &str, ticket: &str, item: &str, fks: &[&str], salt: u32) {
    for (i, fk) in fks.iter().enumerate() {
        sql.push_str(&format!(
            "UPDATE {table} SET {fk} = NULL WHERE hash({ticket}, {item}, {i}, {salt}) % {NULL_ONE_IN} = 0;\n"
        ));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_statement_is_an_update_and_keys_stay() {
        let sql = super::nulls_sql(2);
        assert!(sql.lines().all(|l| l.starts_with("UPDATE ")), "{sql}");
        for never in ["ss_item_sk = NULL", "ss_ticket_number = NULL", "cs_order_number = NULL"] {
            assert!(!sql.contains(never), "{never}");
        }
        assert!(sql.contains("cs_promo_sk = NULL") && sql.contains("ws_bill_customer_sk = NULL") && sql.contains("ss_coupon_amt = NULL"));
    }
}
