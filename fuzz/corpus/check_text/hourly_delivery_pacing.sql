-- Hourly delivery pacing: are campaigns spending on schedule?
-- Used by the ad-ops on-call to spot stalled or runaway line items.
SELECT
  event_date,
  event_hour,
  campaign_id,
  COUNT(*) AS event_rows,
  COUNTIF(impressions = 0) AS zero_impression_rows,
  SUM(impressions) AS impressions,
  SUM(clicks) AS clicks,
  SUM(spend) AS spend,
  -- DRIFT: divides clicks by the number of event rows, not by impressions
  SUM(clicks) / COUNT(*) AS ctr,
  SUM(spend) / SUM(impressions) * 1000 AS cpm
FROM `acme-ads.analytics.fct_ad_events`
WHERE is_test = false
  AND event_date >= DATE_SUB(CURRENT_DATE(), INTERVAL 2 DAY)
GROUP BY event_date, event_hour, campaign_id
ORDER BY event_date DESC, event_hour DESC, spend DESC;
