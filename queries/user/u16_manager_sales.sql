-- Sales of the items of one manager in one month, per store
select s_store_name, i_manager_id, sum(ss_ext_sales_price) as sales
from store_sales, item, store, date_dim
where ss_item_sk = i_item_sk
  and ss_store_sk = s_store_sk
  and ss_sold_date_sk = d_date_sk
  and i_manager_id = 42
  and d_year = 1999 and d_moy = 3
group by s_store_name, i_manager_id
order by sales desc, s_store_name;
