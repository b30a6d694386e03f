import { postgresBackend } from './fixtures.ts';
import { issuerConformance } from './issuer-conformance.ts';

/** The same suite on PostgreSQL (PGHOST/PGPORT/PGUSER, default 127.0.0.1:5432); never skipped. */
issuerConformance(postgresBackend);
