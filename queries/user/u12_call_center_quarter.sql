-- Catalog orders per call center in one quarter
select cc_name, count(distinct cs_order_number) as orders, sum(cs_net_paid) as paid
from catalog_sales
join call_center on cs_call_center_sk = cc_call_center_sk
join date_dim on cs_sold_date_sk = d_date_sk
where d_year = 2001 and d_qoy = 2
group by cc_name
order by orders desc, cc_name;
