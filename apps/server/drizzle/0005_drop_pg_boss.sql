-- pg-boss is gone (decisions/0026): its schema held only its own cron bookkeeping, never Cybros data.
DROP SCHEMA IF EXISTS pgboss CASCADE;
