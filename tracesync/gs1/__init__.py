"""GS1 standards shared by the ingest edge (EPCIS capture) and the exports: Digital Link and EPC
URN identifiers, master data (GTINs, GLNs), the EPCIS vocabulary and the EPCIS 2.0 event hash."""
