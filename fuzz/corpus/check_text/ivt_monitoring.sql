-- Invalid traffic monitoring for trust & safety.
-- Flags exchanges whose IVT share jumps above the weekly baseline.
SELECT
  event_date,
  exchange,
  device_type,
  SUM(impressions) AS impressions,
  SUM(invalid_impressions) AS invalid_impression_count,
  SUM(measurable_impressions) AS measurable_impressions,
  -- DRIFT: uses measurable impressions as the base, but ivt_rate is over all impressions
  SAFE_DIVIDE(SUM(invalid_impressions), SUM(measurable_impressions)) AS ivt_rate,
  COUNT(1) AS source_rows
FROM `acme-ads.analytics.fct_ad_events`
WHERE is_test = false
  AND event_date >= DATE_SUB(CURRENT_DATE(), INTERVAL 7 DAY)
GROUP BY event_date, exchange, device_type
ORDER BY event_date DESC, invalid_impression_count DESC;
