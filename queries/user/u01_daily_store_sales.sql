-- Daily revenue of the stores of one state over two weeks
select d_date, s_store_name, sum(ss_net_paid) as revenue, count(*) as lines
from store_sales
join date_dim on ss_sold_date_sk = d_date_sk
join store on ss_store_sk = s_store_sk
where d_date between date '2001-11-12' and date '2001-11-25'
  and s_state = 'TN'
group by d_date, s_store_name
order by d_date, s_store_name;
