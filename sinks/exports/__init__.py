"""Compliance exports from the trace store: FSMA 204 spreadsheet, EPCIS 2.0, trace report, GS1."""
