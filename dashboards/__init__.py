"""Dashboards: saved answers as widgets, their storage and their refresh."""
