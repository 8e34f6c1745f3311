-- Widest-reach stories: the stories carried by the most distinct outlets.
-- Portable: runs unchanged on DuckDB and BigQuery (reads the stories view).
SELECT
  story_id,
  title,
  agency,
  outlet_count,
  copies,
  first_outlet,
  first_published_at,
  last_published_at
FROM stories
WHERE outlet_count > 1
ORDER BY outlet_count DESC, copies DESC, first_published_at, story_id
LIMIT 50
