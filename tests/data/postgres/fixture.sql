-- Every kind of object the platform's agents_db uses, small: tables with
-- jsonb, bytea and text; sequences (owned and free-standing); indexes; a view;
-- a SQL function; foreign keys; two roles with grants (and a third role with
-- no objects, for the globals restore).  Load into an empty database:
--   psql -v ON_ERROR_STOP=1 -d appdb -f fixture.sql
-- The roles are cluster-wide: the test creates them once per cluster.
CREATE TABLE agents (
  agent_id text PRIMARY KEY,
  category text NOT NULL,
  config jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT '2026-01-01T00:00:00Z'
);
CREATE TABLE requests (
  id bigserial PRIMARY KEY,
  agent_id text NOT NULL REFERENCES agents ON DELETE CASCADE,
  at timestamptz NOT NULL,
  status smallint NOT NULL,
  payload jsonb NOT NULL,
  note text
);
CREATE INDEX requests_agent_at ON requests (agent_id, at);
CREATE INDEX requests_payload ON requests USING gin (payload);
CREATE TABLE attachments (
  id serial PRIMARY KEY,
  request_id bigint NOT NULL REFERENCES requests,
  blob bytea NOT NULL
);
CREATE TABLE "Odd Name; table" ("weird col" text, n int);
CREATE SCHEMA audit;
CREATE TABLE audit.events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, actor text, detail jsonb);
CREATE SEQUENCE ticket_seq START 1000;
CREATE SEQUENCE never_used_seq;

INSERT INTO agents SELECT format('agent_%s', lpad(g::text, 3, '0')), (ARRAY['support','sales','legal'])[1 + g % 3],
  jsonb_build_object('replicas', 1 + g % 3, 'model', 'm' || g, 'tags', jsonb_build_array(g, 'x''y', E'line\nbreak'))
  FROM generate_series(1, 40) g;
INSERT INTO requests (agent_id, at, status, payload, note)
  SELECT format('agent_%s', lpad((1 + g % 40)::text, 3, '0')), '2026-01-01T00:00:00Z'::timestamptz + (g || ' seconds')::interval,
    CASE WHEN g % 17 = 0 THEN 500 ELSE 200 END,
    jsonb_build_object('trace', md5(g::text), 'n', g, 'nested', jsonb_build_object('a', g % 5)),
    CASE WHEN g % 3 = 0 THEN NULL ELSE repeat('ü' || g, 1 + g % 4) END
  FROM generate_series(1, 3000) g;
INSERT INTO attachments (request_id, blob) SELECT g, decode(md5(g::text) || '00ff', 'hex') FROM generate_series(1, 500) g;
INSERT INTO "Odd Name; table" VALUES ('a;b', 1), (E'tab\there', 2), (NULL, NULL);
INSERT INTO audit.events (actor, detail) SELECT 'svc-' || g, jsonb_build_object('i', g) FROM generate_series(1, 77) g;
SELECT setval('ticket_seq', 4242);

CREATE VIEW agent_errors AS
  SELECT agent_id, count(*) FILTER (WHERE status >= 500) AS errors, count(*) AS total FROM requests GROUP BY agent_id;
CREATE FUNCTION error_rate(a text) RETURNS numeric LANGUAGE sql STABLE
  AS $$ SELECT errors::numeric / nullif(total, 0) FROM agent_errors WHERE agent_id = a $$;

GRANT USAGE ON SCHEMA public, audit TO app_reader, app_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO app_reader;
GRANT SELECT, INSERT, UPDATE ON agents, requests, attachments TO app_writer;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO app_writer;
GRANT INSERT ON audit.events TO app_writer;
ALTER TABLE attachments OWNER TO app_writer;
