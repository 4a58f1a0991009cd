"""Target systems: routing chain changes to notices, the HTTP, table and file transports, the
sent-ledger that keeps a re-delivered chain from being sent twice, and the targets sink."""
