-- Units sold of one size and colour by channel, one year
select 'store' as channel, sum(ss_quantity) as units
from store_sales join item on ss_item_sk = i_item_sk join date_dim on ss_sold_date_sk = d_date_sk
where i_size = 'petite' and i_color = 'chiffon' and d_year = 2001
union all
select 'web' as channel, sum(ws_quantity) as units
from web_sales join item on ws_item_sk = i_item_sk join date_dim on ws_sold_date_sk = d_date_sk
where i_size = 'petite' and i_color = 'chiffon' and d_year = 2001
order by channel;
