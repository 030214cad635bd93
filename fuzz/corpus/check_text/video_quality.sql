-- Video quality snapshot: completion and viewability per exchange and device.
-- Materialised daily into the reporting dataset.
CREATE OR REPLACE TABLE `acme-ads.reporting.video_quality_daily` AS
SELECT
  e.event_date,
  e.exchange,
  e.device_type,
  SUM(e.video_starts) AS video_starts,
  SUM(e.video_completions) AS video_completions,
  SAFE_DIVIDE(SUM(e.video_completions), SUM(e.video_starts)) AS vcr,
  SUM(e.viewable_impressions) AS viewable_impressions,
  SUM(e.measurable_impressions) AS measurable_impressions,
  CAST(SUM(e.viewable_impressions) AS FLOAT64) / NULLIF(SUM(e.measurable_impressions), 0) AS viewability_rate
FROM `acme-ads.analytics.fct_ad_events` AS e
WHERE e.is_test = false
  AND e.video_starts > 0
  AND e.event_date = DATE_SUB(CURRENT_DATE(), INTERVAL 1 DAY)
GROUP BY e.event_date, e.exchange, e.device_type;
