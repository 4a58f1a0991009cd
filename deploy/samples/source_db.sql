-- Sample MES and ERP source tables for `tracesync ingest db` (portable: SQLite and PostgreSQL).
-- sqlite3 var/source.db < deploy/samples/source_db.sql
CREATE TABLE mes_batch_log (
    id INTEGER PRIMARY KEY,
    batch_code VARCHAR(40) NOT NULL,
    seq INTEGER NOT NULL,
    order_id VARCHAR(40),
    product_code VARCHAR(40),
    line_id VARCHAR(20),
    shift VARCHAR(10),
    team VARCHAR(20),
    operators VARCHAR(200),
    equipment VARCHAR(200),
    started_at TIMESTAMP,
    logged_at TIMESTAMP
);
INSERT INTO mes_batch_log VALUES
 (1, 'B-000123', 1, 'PO-77', 'P-100', 'L1', 'A', 'T1', 'op-1,op-2', 'MIX-3,FILL-1', '2025-03-01 06:02:00', '2025-03-01 06:02:05'),
 (2, 'B-000124', 1, 'PO-78', 'P-100', 'L2', 'A', 'T2', 'op-3', 'MIX-4', '2025-03-01 06:30:00', '2025-03-01 06:30:02'),
 (3, 'B-000125', 1, 'PO-79', 'P-200', 'L1', 'B', 'T1', 'op-1', 'MIX-3', 'not a time', '2025-03-01 14:00:01');

CREATE TABLE erp_outbox (
    outbox_id INTEGER PRIMARY KEY,
    receipt_id VARCHAR(40) NOT NULL,
    version INTEGER NOT NULL,
    lot_code VARCHAR(40) NOT NULL,
    supplier_id VARCHAR(40),
    supplier_lot VARCHAR(40),
    material_code VARCHAR(40),
    qty NUMERIC(18, 3),
    uom VARCHAR(10),
    posted_at TIMESTAMP,
    published_at TIMESTAMP
);
INSERT INTO erp_outbox VALUES
 (1, 'MR-9001', 1, 'LOT-A-001', 'SUP-1', 'S-LOT-77', 'M-SUGAR', 1200.500, 'KG', '2025-03-01 05:40:00', NULL),
 (2, 'MR-9002', 1, 'LOT-A-002', 'SUP-1', 'S-LOT-78', 'M-SUGAR', 800.000, 'KG', '2025-03-01 05:45:00', NULL);
