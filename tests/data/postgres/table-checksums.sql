-- One line per table of the current database: schema.table, row count and
-- an MD5 of its rows in a stable order (each row's text form, sorted), so two
-- databases can be compared with diff.
SELECT format('%I.%I', n.nspname, c.relname) AS tbl,
       (xpath('//c/text()', query_to_xml(format(
         'SELECT count(*) || '' '' || coalesce(md5(string_agg(t::text, E''\n'' ORDER BY t::text)), ''-'') AS c FROM %I.%I t',
         n.nspname, c.relname), false, false, '')))[1]::text AS summary
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
ORDER BY 1;
