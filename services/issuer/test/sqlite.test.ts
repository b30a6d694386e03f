import { sqliteBackend } from './fixtures.ts';
import { issuerConformance } from './issuer-conformance.ts';

issuerConformance(sqliteBackend);
