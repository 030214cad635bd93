-- Daily campaign performance for the advertiser dashboards.
-- Owner: campaign-analytics. Refreshed hourly by the scheduler.
WITH events AS (
  SELECT *
  FROM `acme-ads.analytics.fct_ad_events`
  WHERE is_test = false
    AND event_date BETWEEN DATE '2024-01-01' AND DATE '2024-03-31'
)
SELECT
  e.event_date,
  c.campaign_name,
  c.advertiser_name,
  c.channel,
  SUM(e.impressions) AS impressions,
  SUM(e.clicks) AS clicks,
  SUM(e.spend) AS spend,
  SUM(e.conversions) AS conversions,
  SAFE_DIVIDE(SUM(e.clicks), SUM(e.impressions)) AS ctr,
  SAFE_DIVIDE(SUM(e.spend), SUM(e.clicks)) AS cpc,
  1000 * SUM(e.spend) / NULLIF(SUM(e.impressions), 0) AS cpm,
  SAFE_DIVIDE(SUM(e.spend), SUM(e.conversions)) AS cpa,
  RANK() OVER (PARTITION BY e.event_date ORDER BY SUM(e.spend) DESC) AS spend_rank
FROM events AS e
JOIN `acme-ads.analytics.dim_campaign` AS c
  ON c.campaign_id = e.campaign_id
GROUP BY e.event_date, c.campaign_name, c.advertiser_name, c.channel
ORDER BY e.event_date, spend_rank;
