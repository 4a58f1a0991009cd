"""Stream processing: merge every source system's events into one trace chain per batch."""
