-- Web returns by web page type for one year, returned by customers born in one decade
select wp_type, count(*) as returns, sum(wr_return_amt) as amount
from web_returns
join web_page on wr_web_page_sk = wp_web_page_sk
join customer on wr_returning_customer_sk = c_customer_sk
join date_dim on wr_returned_date_sk = d_date_sk
where d_year = 2000
  and c_birth_year between 1960 and 1969
group by wp_type
order by returns desc, wp_type;
