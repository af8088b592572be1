-- Run once by the postgres image on an empty volume (docker-entrypoint-initdb.d): one database per service
-- plus one for the test suite, owned by POSTGRES_USER. deploy/postgres/pg.py creates the same set locally.
CREATE DATABASE quotaflow_ingestion;
CREATE DATABASE quotaflow_allocation;
CREATE DATABASE quotaflow_negotiation;
CREATE DATABASE quotaflow_alerts;
CREATE DATABASE quotaflow_test;
