-- Users' account type and mail address; the mail outbox (issue 11: Update/Notify Users)
-- account.account_type: internal (bulkrepo keeps the password) or external (another system
-- manages the account, seed 001); account.email: where letters to the user go (NULL: the user
-- name when it is an address).  mail_outbox: every message queued, in the transaction of the
-- change it tells about, and its delivery (state, attempts, the last error, the next try, the
-- sender's claim); secret holds a message's password sealed with the repository's key until
-- the message is sent (src/lib/mail/outbox.c).
ALTER TABLE account ADD COLUMN account_type TEXT NOT NULL DEFAULT 'internal'
    CHECK (account_type IN ('internal', 'external'));
ALTER TABLE account ADD COLUMN email TEXT;
CREATE TABLE mail_outbox (
    id           INTEGER PRIMARY KEY,
    created      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    secret       TEXT,
    had_secret   INTEGER NOT NULL DEFAULT 0,
    message_id   TEXT NOT NULL UNIQUE,
    job_id       INTEGER,
    state        TEXT NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    next_attempt INTEGER NOT NULL DEFAULT 0,
    claimed      INTEGER,
    sent         TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (state, next_attempt);
CREATE INDEX mail_outbox_by_job ON mail_outbox (job_id) WHERE job_id IS NOT NULL;
