-- DOIs, ISBNs and URIs in dc.identifier.* become identifiers too, so that matching finds them by index
-- (issue 14: a lookup by metadata value scans the field).  The first item with a value owns it;
-- items added since carry them already (src/lib/store/store_item.c).  No table changes.
INSERT OR IGNORE INTO identifier (item_id, type, value)
    SELECT v.item_id, f.qualifier, v.value
    FROM metadata_value v
    JOIN metadata_field f ON f.id = v.field_id
    JOIN metadata_schema s ON s.id = f.schema_id
    WHERE s.prefix = 'dc' AND f.element = 'identifier' AND f.qualifier IN ('doi', 'isbn', 'uri')
    ORDER BY v.item_id, v.id;
