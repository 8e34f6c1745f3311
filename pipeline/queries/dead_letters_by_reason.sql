-- Dead letters by reason: what failed, at which stage, how often, and when last.
-- Portable: runs unchanged on DuckDB and BigQuery.
SELECT
  stage,
  error_class,
  COUNT(*) AS dead_letters,
  SUM(attempt) AS attempts,
  COUNT(DISTINCT feed_url) AS feeds,
  MAX(failed_at) AS last_failed_at
FROM dead_letters
GROUP BY 1, 2
ORDER BY 3 DESC, 1, 2
