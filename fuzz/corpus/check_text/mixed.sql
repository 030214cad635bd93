-- Three statements in one file: good, broken, good.
SELECT
  campaign_id,
  SUM(clicks) / NULLIF(SUM(impressions), 0) AS ctr
FROM analytics.fct_ad_events
WHERE is_test = false
GROUP BY campaign_id;

SELEC clicks FRM events WHERE;

SELECT
  campaign_id,
  -- DRIFT: divides clicks by the number of event rows, not by impressions
  SUM(clicks) / COUNT(*) AS ctr
FROM analytics.fct_ad_events
WHERE is_test = false
GROUP BY campaign_id;
