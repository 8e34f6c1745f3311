-- The share of paywalled articles per outlet: pages declaring isAccessibleForFree false, teasers, and the share.
-- Portable: runs unchanged on DuckDB and BigQuery. Paywalled = the article or a part of it declared not free;
-- declared = pages saying either way; truncated = bodies evidently cut short. Rows stored before schema 3
-- read NULL in these columns and count as undeclared.
SELECT outlet, articles, declared, paywalled, truncated, pct_paywalled
FROM (
  SELECT
    outlet,
    COUNT(*) AS articles,
    COUNT(is_accessible_for_free) AS declared,
    SUM(CASE WHEN is_accessible_for_free = FALSE THEN 1 ELSE 0 END) AS paywalled,
    SUM(CASE WHEN truncated THEN 1 ELSE 0 END) AS truncated,
    ROUND(100.0 * SUM(CASE WHEN is_accessible_for_free = FALSE THEN 1 ELSE 0 END) / COUNT(*), 1) AS pct_paywalled
  FROM articles
  GROUP BY 1
) AS per_outlet
ORDER BY pct_paywalled DESC, articles DESC, outlet
