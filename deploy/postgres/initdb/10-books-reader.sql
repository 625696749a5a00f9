-- storagesvc's role: it may connect to this database and read `books`, nothing else: not a
-- superuser, no DDL, no writes, no temporary tables. The owner (POSTGRES_USER, who runs this
-- script and `storagesvc migrate`) keeps every other right.
--
-- Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d, as
-- POSTGRES_USER on POSTGRES_DB), in docker-compose.yaml and the Kubernetes local overlay. Elsewhere:
--   BOOKS_READER_PASSWORD=... psql -v ON_ERROR_STOP=1 -U <owner> -d <database> -f 10-books-reader.sql
-- The password comes from the environment so it is never written in a file (psql 15+: \getenv).
\getenv reader_password BOOKS_READER_PASSWORD
\if :{?reader_password}
\else
  do $$ begin raise exception 'BOOKS_READER_PASSWORD is not set: books_reader needs a password'; end $$;
\endif

create role books_reader login noinherit password :'reader_password';

-- PUBLIC may connect and create temporary tables by default; only named roles may here.
revoke all on database :"DBNAME" from public;
grant connect on database :"DBNAME" to books_reader;
grant usage on schema public to books_reader;

-- `books` does not exist yet: `storagesvc migrate` creates it later, as this same owner. Tables the
-- owner creates in schema public are readable by books_reader from the moment they exist (in this
-- database: `books`, and nothing else). Not sequences: reading needs none.
alter default privileges in schema public grant select on tables to books_reader;
-- A database that already has the table (this script run by hand after the migration).
do $$
begin
  if to_regclass('public.books') is not null then
    execute 'grant select on table public.books to books_reader';
  end if;
end $$;
