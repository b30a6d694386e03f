import { join } from 'node:path';
import type { CaName } from './ca-state.ts';

/** The files of a root of trust directory (docs/root-of-trust.md, "Files"). */
export function caPaths(dir: string) {
  return {
    dir,
    keys: join(dir, 'keys'),
    state: join(dir, 'state.json'),
    certificate: (ca: CaName) => join(dir, `${ca}.pem`),
    crl: (ca: CaName) => join(dir, `${ca}.crl.pem`),
  };
}
