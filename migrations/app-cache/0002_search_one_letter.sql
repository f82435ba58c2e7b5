-- The first letter typed is a prefix query over every product: index
-- one-letter prefixes too (FTS5 `prefix = '1 2 3'`), so that query reads one
-- index entry instead of merging every word that starts with the letter.

DROP TRIGGER products_ai;
DROP TRIGGER products_ad;
DROP TRIGGER products_au;
DROP TABLE product_fts;

CREATE VIRTUAL TABLE product_fts USING fts5(
    sku, name, brand, barcodes,
    content = 'products',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);
INSERT INTO product_fts (product_fts) VALUES ('rebuild');

CREATE TRIGGER products_ai AFTER INSERT ON products BEGIN
    INSERT INTO product_fts (rowid, sku, name, brand, barcodes)
    VALUES (new.rowid, new.sku, new.name, new.brand, new.barcodes);
END;

CREATE TRIGGER products_ad AFTER DELETE ON products BEGIN
    INSERT INTO product_fts (product_fts, rowid, sku, name, brand, barcodes)
    VALUES ('delete', old.rowid, old.sku, old.name, old.brand, old.barcodes);
END;

CREATE TRIGGER products_au AFTER UPDATE OF sku, name, brand, barcodes ON products BEGIN
    INSERT INTO product_fts (product_fts, rowid, sku, name, brand, barcodes)
    VALUES ('delete', old.rowid, old.sku, old.name, old.brand, old.barcodes);
    INSERT INTO product_fts (rowid, sku, name, brand, barcodes)
    VALUES (new.rowid, new.sku, new.name, new.brand, new.barcodes);
END;
