import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SoftwareHsm } from '../src/index.ts';
import { hsmConformance } from './conformance.ts';

const directory = mkdtempSync(join(tmpdir(), 'amulet-hsm-'));
const masterKey = new Uint8Array(randomBytes(32));

hsmConformance('software keystore', {
  open: () => SoftwareHsm.open({ path: join(directory, 'keystore.json'), masterKey }),
});
