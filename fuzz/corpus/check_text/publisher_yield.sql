-- Publisher yield report for the supply team.
-- One row per publisher and day, display channel only.
SELECT
  e.event_date,
  p.publisher_id,
  SUM(e.ad_requests) AS ad_requests,
  SUM(e.filled_requests) AS filled_requests,
  SUM(e.impressions) AS impressions,
  SUM(e.revenue) AS revenue,
  SUM(e.publisher_payout) AS publisher_payout,
  -- DRIFT: uses bid requests as the denominator instead of ad requests
  SAFE_DIVIDE(SUM(e.filled_requests), SUM(e.bid_requests)) AS fill_rate,
  SUM(e.revenue) / SUM(e.impressions) * 1000 AS ecpm,
  SAFE_DIVIDE(SUM(e.revenue) - SUM(e.publisher_payout), SUM(e.revenue)) AS take_rate
FROM `acme-ads.analytics.fct_ad_events` AS e
JOIN `acme-ads.analytics.dim_publisher` AS p
  ON p.publisher_id = e.publisher_id
JOIN (
  SELECT campaign_id
  FROM `acme-ads.analytics.dim_campaign`
  WHERE channel = 'display'
) AS display_campaigns
  ON display_campaigns.campaign_id = e.campaign_id
WHERE e.is_test = false
  AND e.event_date BETWEEN DATE '2024-02-01' AND DATE '2024-02-29'
GROUP BY e.event_date, p.publisher_id
ORDER BY revenue DESC;
