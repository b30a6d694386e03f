/**
 * `@amulet/wallet/testing`: what other packages' tests need to run the wallet for real — a
 * SQLite or PostgreSQL store, a small real HTTP server speaking the wallet's TSP contract, a
 * test PKI (root, device CAs, devices) and helpers to create tenants and users.
 */
export * from './databases.ts';
export * from './pki-fixtures.ts';
export * from './tsp-server.ts';
export * from './wallet-harness.ts';
