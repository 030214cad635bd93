-- Supply funnel: requests -> fills -> bids -> wins -> renders, per exchange and day.
-- live_events only drops test traffic and trims the date range, it does not aggregate.
WITH live_events AS (
  SELECT *
  FROM analytics.fct_ad_events
  WHERE is_test = FALSE
    AND event_date BETWEEN '2024-05-01' AND '2024-05-31'
)
SELECT
  l.event_date,
  l.exchange,
  SUM(l.ad_requests) AS ad_requests,
  SUM(l.filled_requests) AS filled_requests,
  SUM(l.wins) AS wins,
  SUM(l.rendered_impressions) AS rendered_impressions,
  DIV0(SUM(l.filled_requests), SUM(l.ad_requests)) AS fill_rate,
  DIV0(SUM(l.bids), SUM(l.bid_requests)) AS bid_rate,
  CAST(SUM(l.rendered_impressions) AS DOUBLE) / NULLIF(SUM(l.wins), 0) AS render_rate,
  COUNT(1) AS source_rows
FROM live_events AS l
GROUP BY l.event_date, l.exchange
ORDER BY l.event_date, l.exchange;
