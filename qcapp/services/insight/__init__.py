"""Insight: statistics, live quality, query history and label-issue scans."""
