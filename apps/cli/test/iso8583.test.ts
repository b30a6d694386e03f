import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.ts';

const PAN = '4761739001010119';
const CRYPTOGRAM = '1F2E3D4C5B6A7988';
const hexOf = (text: string) => Buffer.from(text, 'latin1').toString('hex').toUpperCase();
// 0200 with PAN (2), processing code (3), amount (4) and field 55 holding 9F26 and 9F02.
const TLV = `9F2608${CRYPTOGRAM}9F0206000000001250`;
const MESSAGE_HEX = hexOf(`0200700000000000020016${PAN}000000000000001250`) + hexOf('020') + TLV;

describe('amulet iso8583', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'amulet-iso8583-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('unpack prints the fields with descriptions, field 55 as named tags, sensitive values masked', async () => {
    const result = await runCli(['iso8583', 'unpack', MESSAGE_HEX]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('MTI 0200  financial request from the acquirer');
    expect(result.stdout).toContain('Primary account number (PAN): 476173******0119');
    expect(result.stdout).toContain('9F26 Application Cryptogram: [8 bytes masked]');
    expect(result.stdout).toContain('9F02 Amount, Authorised (numeric): 000000001250');
    expect(result.stdout).not.toContain(PAN);
    expect(result.stdout).not.toContain(CRYPTOGRAM);
  });

  it('unpack --json --reveal prints one JSON object that pack turns back into the same hex', async () => {
    const unpacked = await runCli(['iso8583', 'unpack', MESSAGE_HEX, '--json', '--reveal']);
    expect(unpacked.status).toBe(0);
    const json = JSON.parse(unpacked.stdout);
    expect(json.spec).toBe('iso8583-1987-ascii');
    expect(json.fields[0]).toEqual({ field: '2', description: 'Primary account number (PAN)', value: PAN });
    const packed = await runCli(['iso8583', 'pack', '-'], unpacked.stdout);
    expect(packed).toEqual({ status: 0, stdout: `${MESSAGE_HEX}\n`, stderr: '' });
  });

  it('unpack --json masks unless --reveal, and pack refuses masked values', async () => {
    const unpacked = await runCli(['iso8583', 'unpack', MESSAGE_HEX, '--json']);
    expect(unpacked.stdout).not.toContain(PAN);
    expect(unpacked.stdout).not.toContain(CRYPTOGRAM);
    const packed = await runCli(['iso8583', 'pack', '-'], unpacked.stdout);
    expect(packed.status).toBe(2);
    expect(packed.stderr).toBe(
      'amulet: the message JSON field 2 holds a masked value; unpack with reveal to get it (ERR_ISO8583_JSON)\n',
    );
  });

  it('pack reads the hand-written form from a file, with the binary spec', async () => {
    const file = join(dir, 'message.json');
    await writeFile(file, JSON.stringify({ mti: '0200', fields: { 2: PAN, 22: '071', 55: TLV } }));
    const result = await runCli(['iso8583', 'pack', file, '--spec', 'iso8583-1987-binary']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`02004000040000000200${'16'}${PAN}0071${'0020'}${TLV}\n`);
  });

  it('loads a JSON spec file', async () => {
    const spec = join(dir, 'spec.json');
    const shipped = JSON.parse((await runCli(['iso8583', 'specs', '--json'])).stdout);
    expect(shipped.specs.map((s: { name: string }) => s.name)).toEqual([
      'iso8583-1987-ascii',
      'iso8583-1987-binary',
    ]);
    const example = await readFile(
      new URL('../../../packages/iso8583/test/specs/example-private-use.json', import.meta.url),
      'utf8',
    );
    await writeFile(spec, example);
    const message = hexOf(`01000000000000000004017${'07'}`) + '040010030273' + '00' + '0102030405060708';
    const result = await runCli(['iso8583', 'unpack', message, '--spec', spec, '--json', '--reveal']);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout).fields[0].subfields.map((s: { value: string }) => s.value)).toEqual([
      '07',
      '40010030273',
      '',
      '0102030405060708',
    ]);
  });

  it('specs lists the shipped specs', async () => {
    const result = await runCli(['iso8583', 'specs']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^iso8583-1987-ascii +ISO 8583:1987/m);
    expect(result.stdout).toMatch(/^iso8583-1987-binary +ISO 8583:1987/m);
  });

  it('bad input exits 2 with one line naming the field and the offset, never the value', async () => {
    // 9F02 claims 7 bytes where 6 remain; field 55's content starts at offset 59, 9F02's value 14 bytes in.
    const result = await runCli(['iso8583', 'unpack', MESSAGE_HEX.replace('9F0206', '9F0207')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      'amulet: cannot unpack field 55 > 9F02 at offset 73: the BER-TLV data is malformed (ERR_TLV_TRUNCATED) (ERR_ISO8583_UNPACK)\n',
    );
    expect(result.stderr).not.toContain(CRYPTOGRAM);
    const truncated = await runCli(['iso8583', 'unpack', MESSAGE_HEX.slice(0, MESSAGE_HEX.length - 4)]);
    expect(truncated.stderr).toBe(
      'amulet: cannot unpack field 55 at offset 59: the message ends before 20 bytes (18 bytes remain) (ERR_ISO8583_UNPACK)\n',
    );
    const badDigit = await runCli([
      'iso8583',
      'unpack',
      MESSAGE_HEX.replace(hexOf(PAN), hexOf(`${PAN.slice(0, 8)}X${PAN.slice(9)}`)),
    ]);
    expect(badDigit.stderr).toBe(
      'amulet: cannot unpack field 2 at offset 30: the byte is not a character a numeric field may hold (ERR_ISO8583_UNPACK)\n',
    );
    expect(badDigit.stderr).not.toContain(PAN.slice(0, 8));
    for (const args of [
      ['iso8583', 'unpack', 'XYZ'],
      ['iso8583', 'unpack', MESSAGE_HEX, '--spec', 'no-such-spec'],
      ['iso8583', 'pack', join(dir, 'missing.json')],
    ]) {
      const bad = await runCli(args);
      expect(bad.status).toBe(2);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    }
    const notJson = await runCli(['iso8583', 'pack', '-'], '{');
    expect(notJson).toMatchObject({ status: 2, stderr: 'amulet: the message is not valid JSON\n' });
    const tooLong = await runCli(
      ['iso8583', 'pack', '-'],
      JSON.stringify({ mti: '0200', fields: { 2: `${PAN}0000` } }),
    );
    expect(tooLong.stderr).toBe(
      'amulet: cannot pack field 2: has 20 characters, the spec allows at most 19 (ERR_ISO8583_PACK)\n',
    );
  });
});
