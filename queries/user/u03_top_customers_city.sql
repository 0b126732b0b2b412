-- Best store customers living in one city
select c_customer_id, c_first_name, c_last_name, sum(ss_net_paid) as spent
from store_sales
join customer on ss_customer_sk = c_customer_sk
join customer_address on c_current_addr_sk = ca_address_sk
where ca_city = 'Midway'
  and ca_state = 'GA'
group by c_customer_id, c_first_name, c_last_name
order by spent desc, c_customer_id
limit 20;
