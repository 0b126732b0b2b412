-- Web sales to customers in one time zone, by month of one year
select d_moy, sum(ws_net_paid) as paid
from web_sales
join customer_address on ws_bill_addr_sk = ca_address_sk
join date_dim on ws_sold_date_sk = d_date_sk
where ca_gmt_offset = -7
  and d_year = 1999
group by d_moy
order by d_moy;
