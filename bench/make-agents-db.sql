-- make-agents-db.sql: builds agents_db, a stand-in for the platform's
-- database of AI agents, for bench/bench_postgres.sh.  It has what makes a
-- dump and a restore work: a small parent table, a large child table with
-- jsonb, a foreign key and a two-column index, a table of long text, one of
-- bytea, a sequence with a value of its own, a view and a SQL function.
--
--   psql -v scale=N -f bench/make-agents-db.sql     (scale defaults to 1)
--
-- Per unit of scale: 300000 requests, 20000 conversations of about 1 KB of
-- text each, 100000 audit_log rows; agents stays at 200.  Scale 1 is about
-- 140 MB on disk, scale 10 about 1.3 GB.  Everything is computed from the
-- row number, so a given scale always holds the same rows (timestamps
-- excepted, they count back from now()).  The database is dropped first.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
\if :{?scale}
\else
\set scale 1
\endif

DROP DATABASE IF EXISTS agents_db;
CREATE DATABASE agents_db;
\connect agents_db

-- 200 agents in five kinds, 40 of each: support_agent_001, sales_agent_002, ...
CREATE TABLE agents (
	agent_id   text PRIMARY KEY,
	category   text NOT NULL,
	image      text NOT NULL,
	replicas   integer NOT NULL DEFAULT 2,
	created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO agents (agent_id, category, image, replicas)
SELECT kind || '_agent_' || to_char(n, 'FM000'),
       kind,
       'ghcr.io/example/agent-' || n || ':v1.' || n % 7 || '.0',
       1 + n % 3
FROM generate_series(1, 200) AS n,
     LATERAL (SELECT (ARRAY['support', 'sales', 'research', 'legal', 'planning'])[1 + n % 5] AS kind) AS k;

-- One row per call an agent served; the payload is a JSON document of ~190 bytes.
CREATE TABLE requests (
	id            bigserial PRIMARY KEY,
	agent_id      text NOT NULL REFERENCES agents (agent_id),
	"timestamp"   timestamptz NOT NULL,
	status        smallint NOT NULL,
	latency_ms    integer NOT NULL,
	input_tokens  integer NOT NULL,
	output_tokens integer NOT NULL,
	payload       jsonb NOT NULL
);
WITH numbered AS (SELECT agent_id, row_number() OVER (ORDER BY agent_id) - 1 AS slot FROM agents)
INSERT INTO requests (agent_id, "timestamp", status, latency_ms, input_tokens, output_tokens, payload)
SELECT a.agent_id,
       now() - make_interval(secs => r),
       CASE WHEN r % 101 = 0 THEN 503 WHEN r % 37 = 0 THEN 429 ELSE 200 END,
       (r * 104729 % 15000)::integer,
       (r * 53 % 4096)::integer,
       (r * 29 % 2048)::integer,
       jsonb_build_object('model', 'model-' || r % 3,
                          'trace', md5('trace' || r),
                          'labels', jsonb_build_array(r % 7, r % 19),
                          'note', md5('a' || r) || md5('b' || r))
FROM generate_series(1::bigint, 300000 * :scale) AS r
JOIN numbered AS a ON a.slot = r % 200;
CREATE INDEX requests_by_agent_and_time ON requests (agent_id, "timestamp");

-- Transcripts: 30 words of 32 hex digits, about 1 KB per row.
CREATE TABLE conversations (
	id         bigserial PRIMARY KEY,
	agent_id   text NOT NULL,
	started_at timestamptz NOT NULL,
	transcript text NOT NULL
);
INSERT INTO conversations (agent_id, started_at, transcript)
SELECT 'support_agent_' || to_char(c % 200, 'FM000'),
       now() - make_interval(mins => c),
       (SELECT string_agg(md5(c || ':' || w), ' ' ORDER BY w) FROM generate_series(1, 30) AS w)
FROM generate_series(1, 20000 * :scale) AS c;

-- Who did what, with 32 bytes of binary detail per row.
CREATE TABLE audit_log (
	id     bigserial PRIMARY KEY,
	at     timestamptz NOT NULL DEFAULT now(),
	actor  text NOT NULL,
	action text NOT NULL,
	detail bytea
);
INSERT INTO audit_log (actor, action, detail)
SELECT 'svc-' || e % 17,
       (ARRAY['login', 'rotate-key', 'scale', 'deploy', 'rollback'])[1 + e % 5],
       sha256(e::text::bytea)
FROM generate_series(1, 100000 * :scale) AS e;

-- A sequence whose value a restore must carry over.
CREATE SEQUENCE ticket_seq START 1000;
SELECT setval('ticket_seq', 4242);

CREATE VIEW agent_errors AS
SELECT agent_id, count(*) FILTER (WHERE status >= 500) AS errors, count(*) AS total
FROM requests GROUP BY agent_id;

CREATE FUNCTION error_rate(agent text) RETURNS numeric LANGUAGE sql STABLE AS $$
	SELECT errors::numeric / nullif(total, 0) FROM agent_errors WHERE agent_id = agent
$$;

VACUUM ANALYZE;
SELECT pg_size_pretty(pg_database_size('agents_db')) AS agents_db_size;
