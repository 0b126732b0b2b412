-- Monthly sales of one category in one year, by class
select d_moy, i_class, sum(ss_ext_sales_price) as sales
from store_sales, date_dim, item
where ss_sold_date_sk = d_date_sk
  and ss_item_sk = i_item_sk
  and i_category = 'Jewelry'
  and d_year = 2000
group by d_moy, i_class
order by d_moy, sales desc, i_class;
