-- Run once, as the superuser, when the data directory is created: getstar's migrations then
-- find the extensions in place even when the service connects as a role that cannot create them.
CREATE EXTENSION IF NOT EXISTS q3c;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
