import { describe, expect, it } from 'vitest';
import { emvDataObjects, findDataObject, isConstructedTag } from '../src/index.ts';
import { tagBytes } from '../src/tag.ts';

describe('the EMV data object dictionary', () => {
  it('holds at least 120 entries with unique, well-formed, upper-case tags', () => {
    expect(emvDataObjects.length).toBeGreaterThanOrEqual(120);
    const tags = emvDataObjects.map((object) => object.tag);
    expect(new Set(tags).size).toBe(tags.length);
    for (const tag of tags) {
      expect(tag).toBe(tag.toUpperCase());
      expect(() => tagBytes(tag)).not.toThrow();
    }
  });

  it('has consistent formats, lengths and markings', () => {
    const names = new Set<string>();
    for (const object of emvDataObjects) {
      expect(object.name.length, object.tag).toBeGreaterThan(0);
      expect(names.has(object.name), object.tag).toBe(false);
      names.add(object.name);
      expect(Number.isInteger(object.minLength) && object.minLength >= 0, object.tag).toBe(true);
      expect(object.maxLength, object.tag).toBeGreaterThanOrEqual(object.minLength);
      expect(object.maxLength, object.tag).toBeLessThanOrEqual(261);
      // Templates are constructed and only templates are: the constructed bit decides.
      expect(object.format === 'var' && isConstructedTag(object.tag), object.tag).toBe(
        isConstructedTag(object.tag),
      );
      if (object.mask !== undefined) expect(object.sensitivity, object.tag).toBe('sensitive');
      for (const template of object.template ?? []) {
        expect(isConstructedTag(template) || template === '80', `${object.tag} in ${template}`).toBe(true);
      }
    }
  });

  it('covers the common contact and contactless tags', () => {
    const required =
      '4F 50 57 5A 5F20 5F24 5F25 5F28 5F2A 5F2D 5F34 61 6F 70 77 80 82 84 87 88 8A 8C 8D 8E 8F 90 91 92 93 94 95 9A 9B 9C 9F02 9F03 9F06 9F07 9F08 9F09 9F0D 9F0E 9F0F 9F10 9F11 9F12 9F1A 9F1E 9F21 9F26 9F27 9F33 9F34 9F35 9F36 9F37 9F38 9F39 9F40 9F41 9F42 9F44 9F45 9F46 9F47 9F48 9F49 9F4A 9F4B 9F4C 9F4D 9F4E 9F5D 9F66 9F6B 9F6C 9F6E 9F7C A5 BF0C DF8129';
    for (const tag of required.split(' ')) expect(findDataObject(tag), tag).toBeDefined();
  });

  it('marks the card data and secrets that masking must hide', () => {
    expect(findDataObject('5a')).toMatchObject({ format: 'cn', sensitivity: 'sensitive', mask: 'pan' });
    for (const tag of ['57', '9F6B']) expect(findDataObject(tag)?.mask).toBe('track2');
    for (const tag of ['56', '5F20', '9F1F', '9F20', '9F10', '9F0B']) {
      expect(findDataObject(tag)?.sensitivity, tag).toBe('sensitive');
    }
    for (const tag of ['9F26', '99', '91', '86'])
      expect(findDataObject(tag)?.sensitivity, tag).toBe('secret');
    expect(findDataObject('9F02')?.sensitivity).toBe('public');
    expect(findDataObject('9F99')).toBeUndefined();
  });
});
