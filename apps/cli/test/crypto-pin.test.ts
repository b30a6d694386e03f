import { describe, expect, it } from 'vitest';
import { runCli } from './helpers.ts';

// Values from the published vectors in packages/emv/test/vectors (pinblock, tr31, luhn).
const pan = '5555555551234567';
const tdes = '0123456789ABCDEFFEDCBA9876543210';
const aes = 'C1D0F8FB4958670DBA40AB1F3752EF0D';
const kbpkB = '89E88CF7931444F334BD7547FC3F380C';
const keyBlockB =
  'B0120P0TE12E0100KS1800604B120F9292800000E6E28F097CB0350B2EB2DF520947F779FA34D9759CEE7E0DEEACF8353DB778D47FA4EC20DA3A9754';

async function json(args: string[]): Promise<Record<string, unknown>> {
  const result = await runCli([...args, '--json']);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(result.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(result.stdout);
}

/** Runs a command that must fail: exit 2, one line on stderr, none of the secrets in it. */
async function refused(args: string[], secrets: string[]): Promise<string> {
  const result = await runCli(args);
  expect(result.status).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  for (const secret of secrets) expect(result.stderr.toUpperCase()).not.toContain(secret.toUpperCase());
  return lines[0]!;
}

describe('amulet crypto pin-block', () => {
  it('encode: a clear format 0 block, and format 0/1/3/4 enciphered blocks that decode back', async () => {
    expect(
      await json(['crypto', 'pin-block', 'encode', '--format', '0', '--pin', '1234', '--pan', pan]),
    ).toEqual({
      pinBlock: '041261AAAAEDCBA9',
    });
    for (const [format, key] of [
      ['0', tdes],
      ['1', tdes],
      ['3', tdes],
      ['4', aes],
    ] as const) {
      const { pinBlock } = await json([
        'crypto',
        'pin-block',
        'encode',
        '--format',
        format,
        '--pin',
        '98765',
        '--pan',
        pan,
        '--key',
        key,
      ]);
      expect(pinBlock).toMatch(format === '4' ? /^[0-9A-F]{32}$/ : /^[0-9A-F]{16}$/);
      const decoded = await json([
        'crypto',
        'pin-block',
        'decode',
        '--format',
        format,
        '--pin-block',
        String(pinBlock),
        '--pan',
        pan,
        '--key',
        key,
      ]);
      expect(decoded).toEqual({ pin: '98765' });
    }
  });

  it('encode: format 3 uses random fill, so two blocks differ but both decode', async () => {
    const args = ['crypto', 'pin-block', 'encode', '--format', '3', '--pin', '1234', '--pan', pan];
    const first = (await json(args)).pinBlock as string;
    const second = (await json(args)).pinBlock as string;
    expect(first.slice(0, 6)).toBe('341261');
    expect(first).not.toBe(second);
    for (const block of [first, second]) {
      expect(
        await json(['crypto', 'pin-block', 'decode', '--format', '3', '--pin-block', block, '--pan', pan]),
      ).toEqual({ pin: '1234' });
    }
  });

  it('decode: the published format 4 example', async () => {
    const args = [
      'crypto',
      'pin-block',
      'decode',
      '--format',
      '4',
      '--pin-block',
      'CC17F65586BFD0953010226C4FC5B3CA',
    ];
    expect(await json([...args, '--pan', '432198765432109870', '--key', aes])).toEqual({ pin: '1234' });
  });

  it('prints name: value lines without --json', async () => {
    const result = await runCli(['crypto', 'pin-block', 'encode', '--format', '2', '--pin', '34567']);
    expect(result).toEqual({ status: 0, stdout: 'pinBlock: 2534567FFFFFFFFF\n', stderr: '' });
  });

  it('refuses bad input with exit 2 and one line that names no PIN, PAN or key', async () => {
    const pin = '13579';
    const encode = ['crypto', 'pin-block', 'encode', '--pin', pin, '--pan', pan];
    expect(await refused([...encode, '--format', '5'], [pin, pan])).toContain('--format');
    expect(
      await refused(
        ['crypto', 'pin-block', 'encode', '--format', '0', '--pin', '123', '--pan', pan],
        ['123', pan],
      ),
    ).toContain('--pin');
    expect(
      await refused(
        ['crypto', 'pin-block', 'encode', '--format', '0', '--pin', '12a45', '--pan', pan],
        ['12a45', pan],
      ),
    ).toContain('--pin');
    expect(await refused(['crypto', 'pin-block', 'encode', '--format', '0', '--pin', pin], [pin])).toContain(
      '--pan',
    );
    expect(
      await refused(
        [...encode.slice(0, 5), '--pan', '55555555512345678901', '--format', '0'],
        [pin, '5555555551234'],
      ),
    ).toContain('--pan');
    expect(await refused([...encode, '--format', '4'], [pin, pan])).toContain('--key');
    expect(
      await refused(
        [...encode, '--format', '0', '--key', '0123456789ABCDEF'],
        [pin, pan, '0123456789ABCDEF'],
      ),
    ).toContain('--key');
    expect(await refused([...encode, '--format', '2', '--key', tdes], [pin, pan, tdes])).toContain(
      'format 2',
    );
    const decode = ['crypto', 'pin-block', 'decode', '--format', '0', '--pan', pan, '--pin-block'];
    expect(await refused([...decode, '0F1261AAAAEDCBA9'], [pan, '0F1261AAAAEDCBA9'])).toContain(
      'ERR_PIN_LENGTH',
    );
    expect(await refused([...decode, '041261AAAAEDCBAA'], [pan, '041261AAAAEDCBAA', '1234'])).toContain(
      'ERR_PIN_BLOCK_FILL',
    );
    expect(await refused([...decode, '041261AAAAEDCB'], [pan, '041261AAAAEDCB'])).toContain('--pin-block');
    expect(await refused([...decode, '041261AAAAEDCBZZ'], [pan, '041261AAAAEDCBZZ'])).toContain(
      '--pin-block',
    );
  });

  it('has --help for each command', async () => {
    for (const command of ['encode', 'decode']) {
      const result = await runCli(['crypto', 'pin-block', command, '--help']);
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('--format');
    }
  });
});

describe('amulet crypto tr31', () => {
  it('unwrap: a published version B key block, header included', async () => {
    expect(await json(['crypto', 'tr31', 'unwrap', '--kbpk', kbpkB, '--key-block', keyBlockB])).toEqual({
      key: 'F039121BEC83D26B169BDCD5B22AAF8F',
      header: {
        version: 'B',
        keyUsage: 'P0',
        algorithm: 'T',
        modeOfUse: 'E',
        keyVersionNumber: '12',
        exportability: 'E',
        keyContext: '0',
        optionalBlocks: [{ id: 'KS', data: '00604B120F9292800000' }],
      },
    });
  });

  it('wrap then unwrap, versions B and D, with a PB block added where needed', async () => {
    const key = '3F419E1CB7079442AA37474C2EFBF8B8';
    for (const [kbpk, header] of [
      [kbpkB, 'B0000P0TE00E0000'],
      ['88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6', 'D0000P0AE00E0100KS0C00604B12'],
    ] as const) {
      const { keyBlock } = await json([
        'crypto',
        'tr31',
        'wrap',
        '--kbpk',
        kbpk,
        '--key',
        key,
        '--header',
        header,
      ]);
      const text = String(keyBlock);
      expect(text.length).toBe(Number(text.slice(1, 5)));
      const opened = await json(['crypto', 'tr31', 'unwrap', '--kbpk', kbpk, '--key-block', text]);
      expect(opened.key).toBe(key);
    }
  });

  it('refuses bad key blocks and keys with exit 2, one line, no key material', async () => {
    const tampered = `${keyBlockB.slice(0, -1)}5`;
    expect(
      await refused(['crypto', 'tr31', 'unwrap', '--kbpk', kbpkB, '--key-block', tampered], [kbpkB]),
    ).toBe('amulet: key block authentication failed (ERR_TR31_MAC)');
    expect(
      await refused(
        ['crypto', 'tr31', 'unwrap', '--kbpk', kbpkB, '--key-block', `E${keyBlockB.slice(1)}`],
        [kbpkB],
      ),
    ).toContain('ERR_TR31_VERSION');
    expect(
      await refused(['crypto', 'tr31', 'unwrap', '--kbpk', 'ABCD', '--key-block', keyBlockB], ['ABCD']),
    ).toContain('ERR_TR31_KBPK');
    expect(
      await refused(['crypto', 'tr31', 'unwrap', '--kbpk', 'XYZ', '--key-block', keyBlockB], []),
    ).toContain('--kbpk');
    const key = 'F039121BEC83D26B169BDCD5B22AAF8FF039121BEC83D26B';
    expect(
      await refused(
        ['crypto', 'tr31', 'wrap', '--kbpk', kbpkB, '--key', key, '--header', 'B0000P0TE00E0000'],
        [key, kbpkB],
      ),
    ).toContain('ERR_TR31_KEY');
    expect(
      await refused(
        ['crypto', 'tr31', 'wrap', '--kbpk', kbpkB, '--key', key, '--header', 'A0000P0TE00E0000'],
        [key, kbpkB],
      ),
    ).toContain('ERR_TR31_VERSION');
    expect(
      await refused(
        ['crypto', 'tr31', 'wrap', '--kbpk', kbpkB, '--key', key, '--header', 'B0000P0TE00'],
        [key, kbpkB],
      ),
    ).toContain('ERR_TR31');
  });

  it('has --help for each command', async () => {
    for (const command of ['wrap', 'unwrap']) {
      const result = await runCli(['crypto', 'tr31', command, '--help']);
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('--kbpk');
    }
  });
});

describe('amulet crypto luhn', () => {
  it('checks the last digit and gives the digit that would follow', async () => {
    expect(await json(['crypto', 'luhn', '49927398716'])).toEqual({ valid: true, checkDigit: '8' });
    expect(await json(['crypto', 'luhn', '7894'])).toEqual({ valid: false, checkDigit: '9' });
    const result = await runCli(['crypto', 'luhn', '142857']);
    expect(result.stdout).toBe('valid: false\ncheckDigit: 2\n');
  });

  it('refuses non-digits with exit 2 and does not echo them', async () => {
    expect(await refused(['crypto', 'luhn', '4111-1111'], ['4111-1111'])).toContain('ERR_LUHN_INPUT');
    expect((await runCli(['crypto', 'luhn', '--help'])).status).toBe(0);
  });
});
