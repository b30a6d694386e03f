import { emvDataObjects } from './emv-data-objects.ts';

/**
 * One entry of the EMV data object dictionary (EMV Book 3 Annex A). The one table serves the
 * decoder's pretty-printer, validation, masking and the DOL rules.
 */
export interface DataObject {
  /** Upper-case hex tag. */
  readonly tag: string;
  /** A short description in our own words. */
  readonly name: string;
  /** Who supplies the value in a transaction. */
  readonly source: 'card' | 'terminal' | 'issuer';
  /** Templates the object usually appears in. */
  readonly template?: readonly string[];
  /**
   * EMV Book 3 Annex A / Book 4: n = BCD digits right-justified; cn = BCD digits left-justified,
   * padded with 'F'; an / ans = text; b = binary; var = a template or a structure of its own.
   */
  readonly format: 'n' | 'an' | 'ans' | 'b' | 'cn' | 'var';
  /** Length of the value in bytes. */
  readonly minLength: number;
  readonly maxLength: number;
  /**
   * public: shown; sensitive: cardholder or issuer data, masked unless revealed (PAN and track 2
   * keep their first six and last four digits, see `mask`); secret: cryptograms and PIN data,
   * always fully masked unless revealed.
   */
  readonly sensitivity: 'public' | 'sensitive' | 'secret';
  /** How a sensitive value is partly shown; without it the whole value is hidden. */
  readonly mask?: 'pan' | 'track2';
}

const byTag: ReadonlyMap<string, DataObject> = new Map(emvDataObjects.map((object) => [object.tag, object]));

/** The dictionary entry for `tag` (either case), if the dictionary knows it. */
export function findDataObject(tag: string): DataObject | undefined {
  return byTag.get(tag.toUpperCase());
}
