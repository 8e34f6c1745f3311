-- Articles per agency per day: how much wire copy (and staff copy) lands each UTC day.
-- Portable: runs unchanged on DuckDB and BigQuery.
SELECT
  CAST(published_at AS DATE) AS day,
  COALESCE(agency, '(staff)') AS agency,
  COUNT(*) AS articles,
  COUNT(DISTINCT outlet) AS outlets,
  COUNT(DISTINCT story_id) AS stories
FROM articles
GROUP BY 1, 2
ORDER BY 1, 3 DESC, 2
