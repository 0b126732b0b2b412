-- Store returns by reason during one week
select r_reason_desc, count(*) as returns, sum(sr_return_amt) as amount
from store_returns
join reason on sr_reason_sk = r_reason_sk
join date_dim on sr_returned_date_sk = d_date_sk
where d_date >= date '2002-03-04' and d_date < date '2002-03-11'
group by r_reason_desc
order by returns desc, r_reason_desc;
