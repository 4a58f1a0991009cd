"""Measurements (not collected by pytest): run the scripts with python -m."""
