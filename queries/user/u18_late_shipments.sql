-- Catalog lines shipped more than 100 days after the sale, for one warehouse
select w_warehouse_name, count(*) as late_lines
from catalog_sales
join warehouse on cs_warehouse_sk = w_warehouse_sk
where cs_ship_date_sk - cs_sold_date_sk > 100
  and w_state = 'SD'
group by w_warehouse_name
order by late_lines desc, w_warehouse_name;
