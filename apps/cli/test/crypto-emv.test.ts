import { describe, expect, it } from 'vitest';
import { runCli } from './helpers.ts';

// Values from the published vectors in packages/emv/test/vectors (kd, skd, ac, arpc, mac, kcv).
const imk = '0123456789ABCDEFFEDCBA9876543210';

async function json(args: string[]): Promise<Record<string, string>> {
  const result = await runCli([...args, '--json']);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  expect(result.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(result.stdout);
}

describe('amulet crypto (EMV)', () => {
  it('kcv: triple DES and the GlobalPlatform AES method', async () => {
    expect(await json(['crypto', 'kcv', '--key', imk])).toEqual({ kcv: '08D7B4' });
    expect(
      await json([
        'crypto',
        'kcv',
        '--key',
        '000102030405060708090A0B0C0D0E0F',
        '--algorithm',
        'aes',
        '--method',
        'gp-aes',
      ]),
    ).toEqual({
      kcv: 'C35280',
    });
  });

  it('derive-icc-key: Option A and Option B', async () => {
    const base = ['crypto', 'derive-icc-key', '--imk', imk, '--pan', '12345678901234567', '--psn', '01'];
    expect(await json(base)).toEqual({ iccMasterKey: '73AD54688CEF2934B0979857E3C719F1' });
    expect(await json([...base, '--option', 'b'])).toEqual({
      iccMasterKey: 'AD406D7F6D7570916D75E5DCAB8CF737',
    });
  });

  it('session-key: EMV common session key and Mastercard SKD', async () => {
    const key = '154F349D8585CB7F6B0798E9839B10C1';
    expect(await json(['crypto', 'session-key', '--key', key, '--atc', '001C'])).toEqual({
      sessionKey: '436B942AD637E08564B532B0EC97CB26',
    });
    expect(
      await json([
        'crypto',
        'session-key',
        '--key',
        key,
        '--atc',
        '001C',
        '--method',
        'mastercard',
        '--un',
        'ABCDEF12',
      ]),
    ).toEqual({
      sessionKey: '5D8F37BCD9E5DA68048CDFA2EA255D9E',
    });
  });

  it('cryptogram: Mastercard CVN 17 and Visa CVN 18, with --verbose keys', async () => {
    const mc = await json([
      'crypto',
      'cryptogram',
      '--imk',
      imk,
      '--pan',
      '1234567890123456',
      '--psn',
      '00',
      '--atc',
      '001C',
      '--cvn',
      '17',
      '--un',
      'ABCDEF12',
      '--data',
      '00000000999900000000000001248000000000012420990600ABCDEF121800001CA0000322000000000000000322FF',
      '--verbose',
    ]);
    expect(mc).toEqual({
      cryptogram: 'EAE8A620A75648D8',
      iccMasterKey: '154F349D8585CB7F6B0798E9839B10C1',
      sessionKey: '5D8F37BCD9E5DA68048CDFA2EA255D9E',
    });
    const visa = await json([
      'crypto',
      'cryptogram',
      '--imk',
      imk,
      '--pan',
      '1234567890123456',
      '--psn',
      '00',
      '--atc',
      '001C',
      '--cvn',
      '18',
      '--data',
      '0000000040000000000000000124800004800001241911050152BF45851800001C06011203A0B800',
    ]);
    expect(visa).toEqual({ cryptogram: '7A788EA6B8A3E733' });
  });

  it('arpc: methods 1 and 2', async () => {
    const key = 'AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB';
    expect(
      await json([
        'crypto',
        'arpc',
        '--method',
        '1',
        '--key',
        key,
        '--arqc',
        '1234567890ABCDEF',
        '--arc',
        '0000',
      ]),
    ).toEqual({ arpc: 'F5E6F44147E2F1B0' });
    expect(
      await json([
        'crypto',
        'arpc',
        '--method',
        '2',
        '--key',
        key,
        '--arqc',
        '1234567890ABCDEF',
        '--csu',
        '00000000',
      ]),
    ).toEqual({ arpc: '9308BEBC' });
  });

  it('mac: retail and CMAC', async () => {
    expect(
      await json([
        'crypto',
        'mac',
        '--algorithm',
        'retail',
        '--key',
        'AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB',
        '--data',
        '68656C6C6F20776F726C64',
        '--padding',
        '1',
      ]),
    ).toEqual({
      mac: '78DA3D3DEB48FD4D',
    });
    expect(
      await json([
        'crypto',
        'mac',
        '--algorithm',
        'cmac',
        '--key',
        '2B7E151628AED2A6ABF7158809CF4F3C',
        '--data',
        '',
      ]),
    ).toEqual({
      mac: 'BB1D6929E95937287FA37D129B756746',
    });
  });

  it('prints a plain line without --json', async () => {
    const result = await runCli(['crypto', 'kcv', '--key', imk]);
    expect(result.stdout).toBe('kcv: 08D7B4\n');
  });

  it.each([
    [['crypto', 'kcv', '--key', 'XYZ'], '--key must be hexadecimal'],
    [['crypto', 'kcv', '--key', '0123'], '--key must be 8 or 16 or 24 bytes'],
    [
      ['crypto', 'derive-icc-key', '--imk', imk, '--pan', '4111111111111111', '--psn', '1'],
      '--psn must be 2 digits, got 1',
    ],
    [
      ['crypto', 'derive-icc-key', '--imk', imk, '--pan', '41111111111111x1', '--psn', '01'],
      '--pan must be decimal digits',
    ],
    [
      [
        'crypto',
        'cryptogram',
        '--imk',
        imk,
        '--pan',
        '4111111111111111',
        '--psn',
        '01',
        '--atc',
        '0001',
        '--data',
        '00',
        '--cvn',
        '99',
      ],
      '--cvn must be one of',
    ],
    [
      [
        'crypto',
        'cryptogram',
        '--imk',
        imk,
        '--pan',
        '4111111111111111',
        '--psn',
        '01',
        '--atc',
        '0001',
        '--data',
        '00',
        '--cvn',
        '17',
      ],
      '--un is required',
    ],
    [['crypto', 'mac', '--algorithm', 'retail', '--key', imk], "required option '--data"],
  ])('bad input %j exits 2 with one line and no secret', async (args, message) => {
    const result = await runCli(args);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
    expect(result.stderr).not.toContain(imk);
    expect(result.stderr).not.toContain('4111111111111111');
  });
});
