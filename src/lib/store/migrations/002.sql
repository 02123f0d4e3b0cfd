-- API tokens get a name, an expiry, a last-used time and revocation; users can be disabled
-- (issue 12 item 4).  The first line of a migration is its summary in `bulkrepo upgrade`.
-- Tokens issued before the upgrade get a name "token ID" and expire 90 days after it.
-- (One migration file per version, N.sql taking the schema from N-1 to N; they run in
-- one transaction with src/lib/store/migrate.c.  schema.sql stays the full current
-- schema, which tests/unit/test_upgrade.c compares with version 1 plus every file.)
ALTER TABLE api_token ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE api_token ADD COLUMN expires INTEGER;
ALTER TABLE api_token ADD COLUMN last_used INTEGER;
ALTER TABLE api_token ADD COLUMN revoked INTEGER;
CREATE INDEX api_token_by_account ON api_token (account_id);
ALTER TABLE account ADD COLUMN disabled INTEGER;
UPDATE api_token SET name = 'token ' || id,
    expires = CAST(strftime('%s', 'now') AS INTEGER) + 90 * 86400;
