import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers.ts';

// A READ RECORD response: PAN, expiry, name and track 2 equivalent data inside template 70.
const pan = '5413330089600010';
const track2 = `${pan}D25122011234567890000F`;
const record = `7032 5A08${pan} 5F2403251231 5F200A444F452F4A4F484E2020 5713${track2}`.replace(/ /g, '');
const ppse = '6F1E840E325041592E5359532E4444463031A50CBF0C0961074F05A000000004';

describe('amulet tlv decode', () => {
  it('prints the tree with names and masks card data', async () => {
    const result = await runCli(['tlv', 'decode', record]);
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('70 Record Template (READ RECORD response)');
    expect(lines[1]).toBe('  5A Application Primary Account Number (PAN): 541333******0010');
    expect(lines[2]).toBe('  5F24 Application Expiration Date (YYMMDD): [3 bytes masked]');
    expect(result.stdout).toContain('  57 Track 2 Equivalent Data: 541333******0010D');
    expect(result.stdout).not.toContain(pan);
    expect(result.stdout).not.toContain('DOE/JOHN');
    expect(result.stdout).not.toContain('444F452F4A4F484E');
  });

  it('prints one JSON object with --json, values upper-case hex when revealed', async () => {
    const masked = await runCli(['tlv', 'decode', ppse.toLowerCase(), '--json']);
    expect(masked.status).toBe(0);
    expect(masked.stdout.trim().split('\n')).toHaveLength(1);
    const tree = JSON.parse(masked.stdout);
    expect(tree.tlv[0]).toMatchObject({ tag: '6F', name: 'File Control Information (FCI) Template' });
    expect(tree.tlv[0].children[0]).toEqual({
      tag: '84',
      name: 'Dedicated File (DF) Name',
      value: '325041592E5359532E4444463031',
    });

    const hidden = JSON.parse((await runCli(['tlv', 'decode', record, '--json'])).stdout);
    expect(hidden.tlv[0].children[0]).toMatchObject({ tag: '5A', value: '541333******0010', masked: true });
    const shown = JSON.parse((await runCli(['tlv', 'decode', record, '--json', '--reveal'])).stdout);
    expect(shown.tlv[0].children[0]).toMatchObject({ tag: '5A', value: pan });
  });

  it('exits 2 with one line naming the offset on malformed TLV, without values', async () => {
    const result = await runCli(['tlv', 'decode', `7032 5A08${pan}`.replace(/ /g, '')]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('offset 2');
    expect(result.stderr).toContain('ERR_TLV_TRUNCATED');
    expect(result.stderr).not.toContain(pan);

    const nonMinimal = await runCli(['tlv', 'decode', '9C8101FF']);
    expect(nonMinimal.status).toBe(2);
    expect(nonMinimal.stderr).toMatch(/offset 1.*ERR_TLV_NON_MINIMAL_LENGTH/);

    const notHex = await runCli(['tlv', 'decode', '9C0']);
    expect(notHex.status).toBe(2);
    expect(notHex.stderr).toContain('hex must be hexadecimal');
  });

  it('keeps vendor templates opaque with --opaque', async () => {
    const vendor = '9C0100FF810503A10102';
    expect((await runCli(['tlv', 'decode', vendor])).status).toBe(2);
    const result = await runCli(['tlv', 'decode', vendor, '--opaque', 'ff8105']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('FF8105 (unknown tag): A10102');
    expect((await runCli(['tlv', 'decode', vendor, '--opaque', 'zz'])).status).toBe(2);
  });
});

describe('amulet tlv encode', () => {
  it('round-trips decode --json --reveal through stdin and a file', async () => {
    for (const hex of [record, ppse]) {
      const decoded = await runCli(['tlv', 'decode', hex, '--json', '--reveal']);
      const fromStdin = await runCli(['tlv', 'encode', '-'], decoded.stdout);
      expect(fromStdin).toMatchObject({ status: 0, stdout: `${hex}\n` });
      const dir = mkdtempSync(join(tmpdir(), 'amulet-tlv-'));
      const file = join(dir, 'tree.json');
      writeFileSync(file, decoded.stdout);
      const fromFile = await runCli(['tlv', 'encode', file, '--json']);
      rmSync(dir, { recursive: true });
      expect(fromFile.status).toBe(0);
      expect(JSON.parse(fromFile.stdout)).toEqual({ hex });
    }
  });

  it('refuses masked trees, bad JSON, bad tags and missing files with exit 2', async () => {
    const masked = await runCli(['tlv', 'decode', record, '--json']);
    const refused = await runCli(['tlv', 'encode', '-'], masked.stdout);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/70 > 5A holds a masked value.*ERR_TLV_JSON/);
    expect(refused.stderr).not.toContain('541333');

    for (const input of [
      '{',
      '{"tlv": 5}',
      '[{"tag": "9F", "value": ""}]',
      '[{"tag": "9C", "value": "ABC"}]',
    ]) {
      const result = await runCli(['tlv', 'encode', '-'], input);
      expect(result.status, input).toBe(2);
      expect(result.stderr.trim().split('\n'), input).toHaveLength(1);
    }
    const missing = await runCli(['tlv', 'encode', join(tmpdir(), 'amulet-no-such-file.json')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read the file');
  });
});
