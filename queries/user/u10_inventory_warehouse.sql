-- Low stock of one category in one warehouse on one date
select i_item_id, inv_quantity_on_hand
from inventory
join item on inv_item_sk = i_item_sk
join warehouse on inv_warehouse_sk = w_warehouse_sk
join date_dim on inv_date_sk = d_date_sk
where d_date = date '2001-01-04'
  and w_warehouse_name = 'Conventional childr'
  and i_category = 'Music'
  and inv_quantity_on_hand < 50
order by inv_quantity_on_hand, i_item_id;
