-- Exchange win rates for the bidder team, last 30 days.
SELECT
  a.exchange,
  a.integration_type,
  SUM(a.bid_requests) AS bid_requests,
  SUM(a.bids) AS bids,
  SUM(a.wins) AS wins,
  DIV0(SUM(a.bids), SUM(a.bid_requests)) AS bid_rate,
  -- DRIFT: divides wins by bid requests, but win_rate is wins over bids
  DIV0(SUM(a.wins), SUM(a.bid_requests)) AS win_rate,
  SUM(a.timeouts)::float / NULLIF(SUM(a.bid_requests), 0) AS timeout_rate,
  IFF(SUM(a.timeouts) > 0.05 * SUM(a.bid_requests), 'investigate', 'ok') AS latency_flag
FROM analytics.fct_auctions AS a
WHERE a.event_date >= DATEADD(day, -30, CURRENT_DATE())
GROUP BY a.exchange, a.integration_type
ORDER BY a.exchange, a.integration_type;
