-- Customers who bought the same item twice in one month
select ss_customer_sk, ss_item_sk, count(*) as times
from store_sales
join date_dim on ss_sold_date_sk = d_date_sk
where d_year = 2002 and d_moy = 5
  and ss_customer_sk is not null
group by ss_customer_sk, ss_item_sk
having count(*) > 1
order by times desc, ss_customer_sk, ss_item_sk;
