-- qt demo query 1 (written for qt, TPC-DS schema): customers whose store returns in 2001
-- exceed 1.2x the average of their store. The correlated subquery re-aggregates per row.
with customer_returns as (
  select sr_customer_sk as customer_sk,
         sr_store_sk as store_sk,
         sum(sr_return_amt) as total_returned
  from store_returns, date_dim
  where sr_returned_date_sk = d_date_sk
    and d_year = 2001
  group by sr_customer_sk, sr_store_sk
)
select c_customer_id, c_last_name, cr1.total_returned
from customer_returns cr1, store, customer
where cr1.total_returned > (select avg(total_returned) * 1.2
                            from customer_returns cr2
                            where cr2.store_sk = cr1.store_sk)
  and s_store_sk = cr1.store_sk
  and cr1.customer_sk = c_customer_sk
order by c_customer_id, cr1.total_returned
limit 100;
