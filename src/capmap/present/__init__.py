"""Turning answers into maps, charts, dashboards and map payloads."""
