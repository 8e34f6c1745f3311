-- Which outlets republish which agency, and how much: copies per outlet and agency, how many of
-- them were not the story's first copy, and the share of all the outlet's articles they make up.
-- Portable: runs unchanged on DuckDB and BigQuery.
SELECT outlet, agency, articles, republished, pct_of_outlet
FROM (
  SELECT
    outlet,
    COALESCE(agency, '(staff)') AS agency,
    COUNT(*) AS articles,
    SUM(CASE WHEN duplicate_of IS NOT NULL THEN 1 ELSE 0 END) AS republished,
    ROUND(100.0 * COUNT(*) / SUM(COUNT(*)) OVER (PARTITION BY outlet), 1) AS pct_of_outlet
  FROM articles
  GROUP BY 1, 2
) AS per_outlet
WHERE agency <> '(staff)'
ORDER BY outlet, articles DESC, agency
