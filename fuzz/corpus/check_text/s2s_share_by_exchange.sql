-- Server-to-server share of impressions, per exchange plus an all-exchanges total row.
SELECT
  e.exchange,
  SUM(e.impressions) AS impressions,
  SUM(CASE WHEN e.integration_type = 's2s' THEN e.impressions ELSE 0 END) AS s2s_impressions,
  SAFE_DIVIDE(SUM(CASE WHEN e.integration_type = 's2s' THEN e.impressions ELSE 0 END), SUM(e.impressions)) AS s2s_share
FROM `acme-ads.analytics.fct_ad_events` AS e
WHERE e.is_test = false
  AND e.event_date >= DATE '2024-01-01'
GROUP BY e.exchange

UNION ALL

SELECT
  'ALL' AS exchange,
  SUM(impressions) AS impressions,
  SUM(CASE WHEN integration_type = 's2s' THEN impressions ELSE 0 END) AS s2s_impressions,
  CAST(SUM(CASE WHEN integration_type = 's2s' THEN impressions ELSE 0 END) AS FLOAT64) / NULLIF(SUM(impressions), 0) AS s2s_share
FROM `acme-ads.analytics.fct_ad_events`
WHERE is_test = false
  AND event_date >= DATE '2024-01-01'
ORDER BY impressions DESC;
