-- qt demo query 3 (written for qt, TPC-DS schema): quantity buckets computed with one scan
-- of store_sales per figure (four scans where one would do).
select
  (select count(*) from store_sales where ss_quantity between 1 and 20) as low_count,
  (select avg(ss_ext_discount_amt) from store_sales where ss_quantity between 1 and 20) as low_avg_discount,
  (select count(*) from store_sales where ss_quantity between 21 and 40) as mid_count,
  (select avg(ss_ext_discount_amt) from store_sales where ss_quantity between 21 and 40) as mid_avg_discount;
