-- Sales per square foot of stores with a given floor space, one year
select s_store_name, s_floor_space, sum(ss_net_paid) / s_floor_space as per_sqft
from store_sales
join store on ss_store_sk = s_store_sk
join date_dim on ss_sold_date_sk = d_date_sk
where s_floor_space between 5000000 and 6000000
  and d_year = 2000
group by s_store_name, s_floor_space
order by per_sqft desc, s_store_name;
