-- Items of one brand in a narrow price band sold through the catalog
select i_item_id, i_product_name, sum(cs_quantity) as qty
from catalog_sales
join item on cs_item_sk = i_item_sk
where i_brand = 'amalgimporto #1'
  and i_current_price between 20 and 25
group by i_item_id, i_product_name
order by qty desc, i_item_id;
