-- Heavily discounted store lines of one department in one month
select i_item_id, ss_ticket_number, ss_list_price, ss_sales_price
from store_sales
join item on ss_item_sk = i_item_sk
join date_dim on ss_sold_date_sk = d_date_sk
where i_category = 'Sports'
  and ss_sales_price < ss_list_price * 0.2
  and d_year = 2002 and d_moy = 10
order by ss_sales_price, i_item_id, ss_ticket_number
limit 50;
