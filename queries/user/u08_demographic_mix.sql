-- Spending of married college graduates with a given credit rating, per store
select s_store_id, avg(ss_sales_price) as avg_price, count(*) as lines
from store_sales
join customer_demographics on ss_cdemo_sk = cd_demo_sk
join store on ss_store_sk = s_store_sk
join date_dim on ss_sold_date_sk = d_date_sk
where cd_marital_status = 'M'
  and cd_education_status = 'College'
  and cd_credit_rating = 'High Risk'
  and d_year = 2002 and d_qoy = 4
group by s_store_id
order by s_store_id;
