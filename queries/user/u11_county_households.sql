-- Store sales to households of one size in one county
select ca_county, hd_dep_count, count(*) as lines, sum(ss_net_profit) as profit
from store_sales
join household_demographics on ss_hdemo_sk = hd_demo_sk
join customer_address on ss_addr_sk = ca_address_sk
where ca_county = 'Williamson County'
  and hd_dep_count = 3
  and hd_buy_potential = '>10000'
group by ca_county, hd_dep_count
order by profit desc;
