"""Sinks: write trace chains to the trace store and to target systems."""
