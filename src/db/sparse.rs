//! The sparse validation instance: data shaped like a real warehouse's corners, where
//! wrong rewrites that agree on dense samples disagree.
//!
//! Built from a full (small) TPC-DS database by SQL only: every dimension table stays
//! whole; each sales table keeps 1 ticket or order in [`KEEP_ONE_IN`] (returns only where
//! their sale was kept, and of those 1 in [`RETURNS_ONE_IN`]), so most customers, items, stores, reasons and promotions have no
//! facts at all (outer joins produce NULL sides, `count(*)` and `count(col)` differ, groups
//! are empty); about 1 row in [`NULL_ONE_IN`] loses each nullable foreign key (NULL keys
//! drop out of inner joins and poison `NOT IN`); 1 row in [`ZERO_ONE_IN`] has a zero
//! quantity and zero prices (zero divisors); a quarter of the addresses share a store's
//! zip code and some customers have no first or last name. The choice of rows is a fixed function of
//! the keys, so a rebuild gives the same database.
//!
//! Declared NOT NULL columns (item keys, ticket and order numbers) are never nulled: a
//! rewrite may rely on the schema's constraints.
//!
//! This file only writes SQL; `generate.rs` runs it after the normal load.

/// The recipe's version, part of the cache key: a changed recipe is a new database.
pub const RECIPE: u32 = 3;
/// Keep one sales ticket (or order) in this many.
pub const KEEP_ONE_IN: u32 = 25;
/// Of the kept sales, keep the returns of one ticket (or order) in this many: fewer returns
/// than reasons, so most reasons (and stores, items) have none.
pub const RETURNS_ONE_IN: u32 = 8;
/// Null each nullable foreign key in about one fact row in this many.
pub const NULL_ONE_IN: u32 = 8;
/// Zero the quantity and prices of about one fact row in this many.
pub const ZERO_ONE_IN: u32 = 12;

/// (table, ticket/order column, item column, nullable foreign keys, zeroable measures).
pub(super) const FACTS: [(&str, &str, &str, &[&str], &[&str]); 3] = [
    (
        "store_sales",
        "ss_ticket_number",
        "ss_item_sk",
        &["ss_sold_date_sk", "ss_sold_time_sk", "ss_customer_sk", "ss_cdemo_sk", "ss_hdemo_sk", "ss_addr_sk", "ss_store_sk", "ss_promo_sk"],
        &["ss_quantity", "ss_list_price", "ss_sales_price", "ss_ext_sales_price", "ss_ext_list_price"],
    ),
    (
        "catalog_sales",
        "cs_order_number",
        "cs_item_sk",
        &["cs_sold_date_sk", "cs_ship_date_sk", "cs_bill_customer_sk", "cs_bill_cdemo_sk", "cs_bill_hdemo_sk", "cs_bill_addr_sk", "cs_ship_customer_sk", "cs_ship_addr_sk", "cs_call_center_sk", "cs_catalog_page_sk", "cs_ship_mode_sk", "cs_warehouse_sk", "cs_promo_sk"],
        &["cs_quantity", "cs_list_price", "cs_sales_price", "cs_ext_sales_price", "cs_ext_list_price"],
    ),
    (
        "web_sales",
        "ws_order_number",
        "ws_item_sk",
        &["ws_sold_date_sk", "ws_ship_date_sk", "ws_bill_customer_sk", "ws_bill_cdemo_sk", "ws_bill_hdemo_sk", "ws_bill_addr_sk", "ws_ship_customer_sk", "ws_ship_addr_sk", "ws_web_page_sk", "ws_web_site_sk", "ws_ship_mode_sk", "ws_warehouse_sk", "ws_promo_sk"],
        &["ws_quantity", "ws_list_price", "ws_sales_price", "ws_ext_sales_price", "ws_ext_list_price"],
    ),
];

/// (returns table, its ticket/order column, its item column, its sales table and their
/// columns, nullable foreign keys).
pub(super) const RETURNS: [(&str, &str, &str, &str, &str, &str, &[&str]); 3] = [
    (
        "store_returns",
        "sr_ticket_number",
        "sr_item_sk",
        "store_sales",
        "ss_ticket_number",
        "ss_item_sk",
        &["sr_returned_date_sk", "sr_return_time_sk", "sr_customer_sk", "sr_cdemo_sk", "sr_hdemo_sk", "sr_addr_sk", "sr_store_sk", "sr_reason_sk"],
    ),
    (
        "catalog_returns",
        "cr_order_number",
        "cr_item_sk",
        "catalog_sales",
        "cs_order_number",
        "cs_item_sk",
        &["cr_returned_date_sk", "cr_refunded_customer_sk", "cr_returning_customer_sk", "cr_returning_addr_sk", "cr_call_center_sk", "cr_catalog_page_sk", "cr_reason_sk"],
    ),
    (
        "web_returns",
        "wr_order_number",
        "wr_item_sk",
        "web_sales",
        "ws_order_number",
        "ws_item_sk",
        &["wr_returned_date_sk", "wr_refunded_customer_sk", "wr_returning_customer_sk", "wr_returning_addr_sk", "wr_web_page_sk", "wr_reason_sk"],
    ),
];

/// The statements that turn a freshly loaded database into the sparse instance.
pub fn sparse_sql() -> String {
    let mut sql = String::new();
    for (table, ticket, _, _, _) in FACTS {
        sql.push_str(&format!("DELETE FROM {table} WHERE {ticket} % {KEEP_ONE_IN} <> 0;\n"));
    }
    for (table, ticket, item, sales, sticket, sitem, _) in RETURNS {
        sql.push_str(&format!(
            "DELETE FROM {table} WHERE ({ticket} // {KEEP_ONE_IN}) % {RETURNS_ONE_IN} <> 0 \
             OR NOT EXISTS (SELECT 1 FROM {sales} WHERE {sticket} = {ticket} AND {sitem} = {item});\n"
        ));
    }
    sql.push_str(&format!("DELETE FROM inventory WHERE (inv_item_sk + inv_date_sk) % {KEEP_ONE_IN} <> 0;\n"));
    for (table, ticket, item, fks, measures) in FACTS {
        null_keys(&mut sql, table, ticket, item, fks);
        let zero: Vec<String> = measures.iter().map(|m| format!("{m} = 0")).collect();
        sql.push_str(&format!(
            "UPDATE {table} SET {} WHERE ({ticket} // {KEEP_ONE_IN} + {item}) % {ZERO_ONE_IN} = 1;\n",
            zero.join(", ")
        ));
    }
    for (table, ticket, item, _, _, _, fks) in RETURNS {
        null_keys(&mut sql, table, ticket, item, fks);
    }
    // Dimension corners: a quarter of the addresses in a store's zip code (customers live
    // near stores), and customers without a first or last name.
    sql.push_str(
        "UPDATE customer_address SET ca_zip = s.s_zip FROM store s \
         WHERE s.s_store_sk = 1 + ca_address_sk % (SELECT max(s_store_sk) FROM store) AND ca_address_sk % 4 = 0;\n\
         UPDATE customer SET c_first_name = NULL WHERE c_customer_sk % 7 = 3;\n\
         UPDATE customer SET c_last_name = NULL WHERE c_customer_sk % 9 = 4;\n",
    );
    sql
}

/// Each key of `fks` is NULL in about one row in [`NULL_ONE_IN`], a different share of
/// rows per key.
fn null_keys(sql: &mut String, table: &str, ticket: &str, item: &str, fks: &[&str]) {
    for (i, fk) in fks.iter().enumerate() {
        sql.push_str(&format!(
            "UPDATE {table} SET {fk} = NULL WHERE ({ticket} // {KEEP_ONE_IN} * 7 + {item} + {i}) % {NULL_ONE_IN} = 0;\n"
        ));
    }
}
