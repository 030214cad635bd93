-- Creative leaderboard: the campaigns with the best click-through this week.
SELECT
  c.campaign_name,
  c.advertiser_name,
  SUM(e.impressions) AS impressions,
  SUM(e.clicks) AS clicks,
  -- NAME: correct formula, but the canonical name is ctr
  SAFE_DIVIDE(SUM(e.clicks), SUM(e.impressions)) AS click_through_rate,
  DENSE_RANK() OVER (ORDER BY SAFE_DIVIDE(SUM(e.clicks), SUM(e.impressions)) DESC) AS leaderboard_position
FROM `acme-ads.analytics.fct_ad_events` AS e
INNER JOIN `acme-ads.analytics.dim_campaign` AS c
  ON e.campaign_id = c.campaign_id
WHERE e.is_test = false
  AND e.event_date >= DATE_SUB(CURRENT_DATE(), INTERVAL 7 DAY)
GROUP BY c.campaign_name, c.advertiser_name
HAVING SUM(e.impressions) >= 10000
ORDER BY leaderboard_position
LIMIT 50;
