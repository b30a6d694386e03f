/**
 * PC/SC interop check (docs/secure-element.md, "vpcd"): an SE holding the sandbox cards connects
 * to pcscd's vpcd driver as a virtual card, and the standard `opensc-tool` selects the PPSE
 * through PC/SC. Needs the Debian packages pcscd, vsmartcard-vpcd and opensc, and pcscd running
 * (`pcscd` as root; vpcd then listens on 127.0.0.1:35963). Run with
 * `npx tsx modules/secure-element/test/pcsc-interop.ts`; it prints one line per check and a
 * closing "N passed, N failed" line, and exits 1 on any failure.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { connectVpcd, loadSandboxCards, SecureElement } from '../src/index.ts';

// Asynchronous on purpose: the virtual card answers pcscd from this same process.
const run = promisify(execFile);

const se = SecureElement.open({
  deviceKey: new Uint8Array(randomBytes(32)),
  rng: (n) => new Uint8Array(randomBytes(n)),
  clock: () => Date.now(),
});
loadSandboxCards(se);
const card = await connectVpcd({ transmit: (apdu) => se.transmit(apdu), reset: () => se.fieldReset() });

const checks: { name: string; args: string[]; expect: RegExp[] }[] = [
  {
    name: 'opensc-tool SELECT PPSE answers 9000 with the PPSE template',
    args: ['-r', '0', '-s', '00A404000E325041592E5359532E444446303100'],
    expect: [/SW1=0x90, SW2=0x00/, /6F 69 84 0E 32 50 41 59 2E 53 59 53 2E 44 44 46/],
  },
  {
    name: 'opensc-tool runs SELECT, GET PROCESSING OPTIONS and READ RECORD on the M/Chip card',
    args: ['-r', '0', '-s', '00A4040007A000000004101000', '-s', '80A8000002830000', '-s', '00B2010C00'],
    expect: [/80 06 00 80 08 01 01 00/, /70 42 57 0F 54 13 33/],
  },
];
let passed = 0;
let failed = 0;
// vpcd reports the card after its first poll: wait for it to appear in a reader.
for (let i = 0; i < 20; i++) {
  const list = await run('opensc-tool', ['-l'], { timeout: 10_000 }).catch(() => ({ stdout: '' }));
  if (/^0\s+Yes/m.test(list.stdout)) break;
  await new Promise((resolve) => setTimeout(resolve, 250));
}
for (const check of checks) {
  const { stdout } = await run('opensc-tool', check.args, { timeout: 10_000 }).catch(
    (error: { stdout?: string }) => ({
      stdout: error.stdout ?? '',
    }),
  );
  const ok = check.expect.every((pattern) => pattern.test(stdout));
  console.log(`${ok ? 'ok' : 'FAILED'}: ${check.name}`);
  if (ok) passed += 1;
  else {
    failed += 1;
    console.log(stdout);
  }
}
await card.close();
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
