-- Store tickets per hour on one Saturday
select t_hour, count(distinct ss_ticket_number) as tickets
from store_sales
join time_dim on ss_sold_time_sk = t_time_sk
join date_dim on ss_sold_date_sk = d_date_sk
where d_date = date '1999-07-10'
group by t_hour
order by t_hour;
