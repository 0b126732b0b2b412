-- Store revenue of customers in one zip prefix over one season
select substr(ca_zip, 1, 5) as zip, sum(ss_net_paid) as revenue
from store_sales
join customer on ss_customer_sk = c_customer_sk
join customer_address on c_current_addr_sk = ca_address_sk
join date_dim on ss_sold_date_sk = d_date_sk
where ca_zip like '357%'
  and d_date between date '2000-06-01' and date '2000-08-31'
group by substr(ca_zip, 1, 5)
order by revenue desc, zip;
