-- Returns of customers in one income band, per reason, in one year
select r_reason_desc, count(*) as returns
from store_returns
join household_demographics on sr_hdemo_sk = hd_demo_sk
join income_band on hd_income_band_sk = ib_income_band_sk
join reason on sr_reason_sk = r_reason_sk
join date_dim on sr_returned_date_sk = d_date_sk
where ib_lower_bound = 60001
  and d_year = 2001
group by r_reason_desc
order by returns desc, r_reason_desc;
