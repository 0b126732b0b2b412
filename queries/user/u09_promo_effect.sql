-- Catalog revenue with and without one promotion channel, one month
select p_channel_email, sum(cs_ext_sales_price) as revenue
from catalog_sales
join promotion on cs_promo_sk = p_promo_sk
join date_dim on cs_sold_date_sk = d_date_sk
where d_year = 1998 and d_moy = 12
group by p_channel_email
order by p_channel_email;
