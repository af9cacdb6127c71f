-- The fixture's roles (cluster-wide), created once per test cluster before
-- fixture.sql.  Passwords are test-only values.
CREATE ROLE app_reader LOGIN PASSWORD 'reader-pw' CONNECTION LIMIT 20;
CREATE ROLE app_writer LOGIN PASSWORD 'writer-pw' CREATEDB;
CREATE ROLE app_auditor LOGIN PASSWORD 'auditor-pw' VALID UNTIL '2099-01-01';
GRANT app_reader TO app_writer;
