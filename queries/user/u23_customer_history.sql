-- One customer segment's purchases across channels in one quarter
with buyers as (
  select c_customer_sk from customer where c_birth_country = 'NEW ZEALAND' and c_preferred_cust_flag = 'Y'
)
select 'catalog' as channel, count(*) as lines
from catalog_sales join buyers on cs_bill_customer_sk = c_customer_sk
join date_dim on cs_sold_date_sk = d_date_sk
where d_year = 2000 and d_qoy = 3
union all
select 'store', count(*)
from store_sales join buyers on ss_customer_sk = c_customer_sk
join date_dim on ss_sold_date_sk = d_date_sk
where d_year = 2000 and d_qoy = 3
order by channel;
