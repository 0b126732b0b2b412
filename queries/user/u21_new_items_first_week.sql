-- Units of the items of one class sold in their first listed week, web channel
select i_item_id, sum(ws_quantity) as units
from web_sales
join item on ws_item_sk = i_item_sk
join date_dim on ws_sold_date_sk = d_date_sk
where i_class = 'dresses'
  and d_date between date '1998-01-01' and date '1998-01-07'
group by i_item_id
order by units desc, i_item_id;
