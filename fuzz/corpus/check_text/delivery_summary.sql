-- Delivery summary by advertiser and device, month to date.
SELECT
  e.advertiser_id,
  e.device_type,
  COUNT(*) AS event_rows,
  SUM(e.impressions) AS "IMPRESSIONS",
  SUM(e.clicks) AS "CLICKS",
  SUM(e.spend) AS "SPEND",
  DIV0(SUM(e.Clicks), SUM(e.IMPRESSIONS)) AS "CTR",
  -- DRIFT: missing the * 1000, so this is cost per impression, not per mille
  SUM(e.spend) / SUM(e.impressions) AS cpm,
  SUM(e.spend)::float / NULLIF(SUM(e.clicks), 0) AS cpc
FROM analytics.fct_ad_events AS e
WHERE e.is_test = FALSE
  AND e.event_date >= DATE_TRUNC('month', CURRENT_DATE())
GROUP BY e.advertiser_id, e.device_type
ORDER BY "SPEND" DESC;
