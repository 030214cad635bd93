-- Viewability report per publisher and device type for the brand-safety deck.
SELECT
  p.publisher_id,
  e.device_type,
  SUM(e.measurable_impressions) AS measurable_impressions,
  SUM(e.viewable_impressions) AS viewable_impressions,
  -- NAME: correct formula, but the canonical name is viewability_rate
  DIV0(SUM(e.viewable_impressions), SUM(e.measurable_impressions)) AS viewability,
  IFF(SUM(e.measurable_impressions) < 1000, TRUE, FALSE) AS low_volume
FROM analytics.fct_ad_events AS e
JOIN analytics.dim_publisher AS p
  ON p.publisher_id = e.publisher_id
WHERE e.is_test = FALSE
  AND e.event_date BETWEEN '2024-04-01' AND '2024-04-30'
GROUP BY p.publisher_id, e.device_type
ORDER BY p.publisher_id, e.device_type;
