-- S2S partner report: only server-to-server traffic, by partner exchange.
SELECT
  e.exchange,
  SUM(e.impressions) AS "IMPRESSIONS",
  -- DRIFT: the WHERE keeps only s2s rows, so the denominator is s2s impressions too (always 100%)
  DIV0(SUM(IFF(e.integration_type = 's2s', e.impressions, 0)), SUM(e.impressions)) AS s2s_share
FROM analytics.fct_ad_events AS e
WHERE e.is_test = FALSE
  AND e.integration_type = 's2s'
GROUP BY e.exchange;
