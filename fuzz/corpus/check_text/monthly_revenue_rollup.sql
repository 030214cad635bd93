-- Monthly revenue rollup, appended by the finance pipeline after month end.
INSERT INTO reporting.monthly_revenue (revenue_month, exchange, revenue, publisher_payout, net_revenue, margin, take_rate)
SELECT
  DATE_TRUNC('month', event_date) AS revenue_month,
  exchange,
  SUM(revenue) AS revenue,
  SUM(publisher_payout) AS publisher_payout,
  (SUM(revenue) - SUM(publisher_payout)) AS net_revenue,
  DIV0(SUM(revenue) - SUM(publisher_payout), SUM(revenue)) AS margin,
  (SUM(revenue) - SUM(publisher_payout)) / NULLIF(SUM(revenue), 0) AS take_rate
FROM ACME_ADS.ANALYTICS.FCT_AD_EVENTS
WHERE is_test = FALSE
  AND event_date >= DATEADD(month, -1, DATE_TRUNC('month', CURRENT_DATE()))
  AND event_date < DATE_TRUNC('month', CURRENT_DATE())
GROUP BY DATE_TRUNC('month', event_date), exchange;
