"""CloudFront standard access-log report: one set of SQL queries, run by DuckDB or Athena."""
