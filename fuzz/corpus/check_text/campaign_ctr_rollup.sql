-- Campaign CTR for the quarter, rolled up from daily CTRs.
WITH daily AS (
  SELECT
    event_date,
    campaign_id,
    SAFE_DIVIDE(SUM(clicks), SUM(impressions)) AS daily_ctr
  FROM `acme-ads.analytics.fct_ad_events`
  WHERE is_test = false
  GROUP BY event_date, campaign_id
)
SELECT
  campaign_id,
  -- DRIFT: averages daily CTRs, so a day with 10 impressions weighs as much as a day with 10 million
  AVG(daily_ctr) AS ctr
FROM daily
GROUP BY campaign_id;
