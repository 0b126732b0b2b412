-- qt demo query 2 (written for qt, TPC-DS schema): revenue per category and month for the
-- first and last quarter of 2000. The date filter is an OR over the big fact join.
select i_category, d_moy, sum(ss_ext_sales_price) as revenue, count(*) as sales
from store_sales
join date_dim on ss_sold_date_sk = d_date_sk
join item on ss_item_sk = i_item_sk
where d_year = 2000
  and (d_qoy = 1 or d_qoy = 4)
group by i_category, d_moy
order by i_category, d_moy;
