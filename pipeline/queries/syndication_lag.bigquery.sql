-- Syndication lag: minutes from the first copy of a story to each republished copy.
-- BigQuery dialect; its DuckDB twin is syndication_lag.duckdb.sql (a test requires equal rows).
SELECT
  a.story_id,
  COALESCE(a.story_agency, a.agency, first.agency) AS agency,
  first.outlet AS first_outlet,
  a.outlet AS outlet,
  a.article_id,
  a.title,
  ROUND((UNIX_MICROS(a.published_at) - UNIX_MICROS(first.published_at)) / 60000000.0, 1) AS lag_minutes
FROM articles AS a
JOIN articles AS first ON first.article_id = a.duplicate_of
WHERE a.duplicate_of IS NOT NULL
ORDER BY lag_minutes DESC, a.story_id, a.article_id
