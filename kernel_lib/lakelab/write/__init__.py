"""Writing datasets. Every writer (ingest, transform and --into, the embedded engine's CREATE
TABLE AS / INSERT, Ray transforms, publish) commits through commit.write."""
