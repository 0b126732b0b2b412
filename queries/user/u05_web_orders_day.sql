-- Web orders shipped by one ship mode on one day
select ws_order_number, sum(ws_quantity) as items, sum(ws_net_paid) as paid
from web_sales
join date_dim on ws_sold_date_sk = d_date_sk
join ship_mode on ws_ship_mode_sk = sm_ship_mode_sk
where d_date = date '2000-06-15'
  and sm_type = 'EXPRESS'
group by ws_order_number
order by paid desc, ws_order_number;
