-- Quick IVT check straight off the raw event log (before dedup and bot filtering).
SELECT
  event_date,
  -- DRIFT: right formula, wrong table: the agreed source is fct_ad_events
  DIV0(SUM(invalid_impressions), SUM(impressions)) AS ivt_rate
FROM raw.ad_event_log
GROUP BY event_date;
