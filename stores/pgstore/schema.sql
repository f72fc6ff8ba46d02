-- The tables of sessionkit's PostgreSQL store (stores/pgstore), schema
-- version 1, unreleased: until the first release it changes in place, and
-- tables made from an earlier draft are dropped and made again (IF NOT
-- EXISTS leaves a table as it is, missing columns and all). Every
-- statement is idempotent (IF NOT EXISTS), so running this file again is
-- harmless. As written it puts the tables in the schema
-- "public" with the prefix "sessionkit_", the store's defaults; for other
-- names, take the SQL from pgstore.Options.SchemaSQL, which rewrites them.

-- One row per session ID: a session, or what a renewal left under its old
-- ID. The ID is the lowercase hex SHA-256 of the session's token, never
-- the token.
CREATE TABLE IF NOT EXISTS public.sessionkit_sessions (
    id          text COLLATE "C" PRIMARY KEY,
    -- live: a session. forward: renewed away with a grace period, Load
    -- answers with successor until deadline. gone: renewed away without
    -- grace, loads as missing; kept until deadline (a minute) so that a
    -- revocation racing the renewal can follow successor.
    state       text NOT NULL,
    successor   text COLLATE "C",
    -- NULL for an anonymous session. Bytes, not text: a user ID is the
    -- application's string, which need not be valid UTF-8.
    user_id     bytea,
    created_at  timestamptz NOT NULL,
    issued_at   timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,  -- the absolute deadline
    -- When the row ends: for a session the earlier of last_seen + idle
    -- timeout and expires_at, as of its last write; for the others the
    -- end of their grace. Reads check it against the caller's clock; the
    -- janitor deletes rows past it.
    deadline    timestamptz NOT NULL,
    user_agent  text NOT NULL,         -- recorded at login, for listing
    ip          text NOT NULL,
    -- The rest of what the login chose, kept through every write and
    -- renewal. The session's own idle timeout, in microseconds, in place
    -- of the caller's; NULL (or 0): the caller's. A count of microseconds,
    -- not an interval: an interval's days and months are not a fixed
    -- length (timestamptz + interval '1 day' is 23 or 25 hours across a
    -- change of daylight saving time in the session's TimeZone), and a Go
    -- time.Duration is, at the microsecond a timestamptz keeps.
    idle_us     bigint,
    remembered  boolean NOT NULL,      -- for listing; nothing else
    label       text NOT NULL,         -- the user's name for it; '' for none
    -- The application's strings, a JSON object of strings; NULL for none.
    metadata    jsonb,
    -- The digest of the client the session is bound to, compared as it is:
    -- bytes, as user_id, so that it never changes on the way; NULL: not
    -- bound.
    binding     bytea,
    -- The session a row descends from, the same in every row its renewals
    -- leave: a hash of the ID it was created under. Renew and Delete take
    -- an advisory lock on it, so that a deletion and the rotations of one
    -- session run one after the other and a deletion cannot be outrun.
    lineage     bigint NOT NULL
);

-- The user index: a user's sessions, for listing and revoking them.
CREATE INDEX IF NOT EXISTS sessionkit_sessions_user_id_idx
    ON public.sessionkit_sessions (user_id) WHERE user_id IS NOT NULL;

-- The janitor's: rows past their deadline.
CREATE INDEX IF NOT EXISTS sessionkit_sessions_deadline_idx
    ON public.sessionkit_sessions (deadline);

-- One row per value: a write touches only the keys it changes, so two
-- requests writing different keys of one session both survive. Keys and
-- values are the core's bytes, never interpreted here.
CREATE TABLE IF NOT EXISTS public.sessionkit_values (
    session_id  text COLLATE "C" NOT NULL
                REFERENCES public.sessionkit_sessions (id) ON DELETE CASCADE,
    key         bytea NOT NULL,
    value       bytea NOT NULL,
    PRIMARY KEY (session_id, key)
);

-- NEAR CACHE (optional; New creates it when Options.Cache is set).
-- Triggers that announce every change of a session, by whoever makes it
-- (a process without the cache, the janitor, a hand-written UPDATE), to
-- the near caches of the processes that LISTEN on the channel
-- 'sessionkit.f60064e0c39b9078' (a hash of the sessions table's name;
-- Options.SchemaSQL renders the channel for other names). The payload is
-- a comma-separated list of the changed session IDs (never a token),
-- several notifications when they do not fit in one; '*' (drop every
-- entry) for an ID too long to send. One notification per statement, not
-- per row (transition tables). A session row is never inserted under an
-- ID a cache may hold (the ID's earlier row was deleted first, which is
-- announced), so inserts of sessions are not announced, nor the values
-- inserted with them: a Create pays nothing.
-- The triggers need PostgreSQL 14 (CREATE OR REPLACE TRIGGER).
CREATE OR REPLACE FUNCTION public.sessionkit_notify(ids text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    payload text;
BEGIN
    FOR payload IN
        SELECT string_agg(c.id, ',') FROM (
            SELECT CASE WHEN octet_length(u.id) > 1000 THEN '*' ELSE u.id END AS id,
                sum(octet_length(u.id) + 1) OVER (ORDER BY u.id) / 7000 AS part
            FROM (SELECT DISTINCT id FROM unnest(ids) AS x(id)) u
        ) c GROUP BY c.part
    LOOP
        PERFORM pg_notify('sessionkit.f60064e0c39b9078', payload);
    END LOOP;
END $$;

CREATE OR REPLACE FUNCTION public.sessionkit_sessions_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids text[] := ARRAY(SELECT id FROM old_rows);
BEGIN
    IF cardinality(ids) > 0 THEN
        PERFORM public.sessionkit_notify(ids);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION public.sessionkit_values_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids text[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- Not the values of a session row this transaction wrote: one it
        -- inserted is cached nowhere, one it updated is announced by the
        -- sessions trigger. So a Create (or Renew) with values pays no
        -- NOTIFY, and an Update sends one for its row and values together.
        ids := ARRAY(SELECT n.session_id FROM new_rows n
            WHERE NOT EXISTS (SELECT 1 FROM public.sessionkit_sessions s
                WHERE s.id = n.session_id AND s.xmin = pg_current_xact_id()::xid));
    ELSIF TG_OP = 'DELETE' THEN
        ids := ARRAY(SELECT session_id FROM old_rows);
    ELSE
        ids := ARRAY(SELECT session_id FROM old_rows UNION SELECT session_id FROM new_rows);
    END IF;
    IF cardinality(ids) > 0 THEN
        PERFORM public.sessionkit_notify(ids);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER sessionkit_sessions_notify_upd
    AFTER UPDATE ON public.sessionkit_sessions REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.sessionkit_sessions_notify();
CREATE OR REPLACE TRIGGER sessionkit_sessions_notify_del
    AFTER DELETE ON public.sessionkit_sessions REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.sessionkit_sessions_notify();
CREATE OR REPLACE TRIGGER sessionkit_values_notify_ins
    AFTER INSERT ON public.sessionkit_values REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.sessionkit_values_notify();
CREATE OR REPLACE TRIGGER sessionkit_values_notify_upd
    AFTER UPDATE ON public.sessionkit_values REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.sessionkit_values_notify();
CREATE OR REPLACE TRIGGER sessionkit_values_notify_del
    AFTER DELETE ON public.sessionkit_values REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.sessionkit_values_notify();
