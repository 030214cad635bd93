-- Executive dashboard view: one row per day and channel.
CREATE OR REPLACE VIEW reporting.v_exec_dashboard AS
SELECT
  e.event_date,
  c.channel,
  SUM(e.impressions) AS "IMPRESSIONS",
  SUM(e.spend) AS "SPEND",
  SUM(e.revenue) AS "REVENUE",
  SUM(Clicks)::float / sum(IMPRESSIONS) AS "CTR",
  DIV0(SUM(e.spend) * 1000, SUM(e.impressions)) AS "CPM",
  DIV0(1000 * SUM(e.revenue), SUM(e.impressions)) AS "ECPM",
  DIV0(SUM(e.conversion_value), SUM(e.spend)) AS roas,
  DIV0(SUM(e.invalid_impressions), SUM(e.impressions)) AS ivt_rate
FROM analytics.fct_ad_events AS e
LEFT JOIN analytics.dim_campaign AS c
  ON c.campaign_id = e.campaign_id
WHERE e.is_test = FALSE
GROUP BY e.event_date, c.channel;
