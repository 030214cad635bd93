-- Finance margin by advertiser and month.
-- Feeds the monthly close pack.
SELECT
  DATE_TRUNC('month', e.event_date) AS revenue_month,
  e.advertiser_id,
  SUM(e.revenue) AS revenue,
  SUM(e.publisher_payout) AS publisher_payout,
  SUM(e.revenue) - SUM(e.publisher_payout) AS net_revenue,
  -- DRIFT: subtracts media spend instead of publisher payout
  DIV0(SUM(e.revenue) - SUM(e.spend), SUM(e.revenue)) AS margin,
  DIV0((SUM(e.revenue) - SUM(e.publisher_payout)), SUM(e.revenue)) AS take_rate
FROM analytics.fct_ad_events e
WHERE e.is_test = FALSE
  AND e.event_date >= '2024-01-01'
GROUP BY DATE_TRUNC('month', e.event_date), e.advertiser_id
ORDER BY revenue_month, revenue DESC;
