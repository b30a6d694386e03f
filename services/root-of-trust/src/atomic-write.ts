import { renameSync, writeFileSync } from 'node:fs';

/** Writes a file through a temporary name and a rename, so readers never see half of it. */
export function atomicWrite(path: string, data: string | Uint8Array, mode = 0o644): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, data, { mode });
  renameSync(temporary, path);
}
