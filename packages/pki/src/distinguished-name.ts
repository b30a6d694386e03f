import { AsnConvert } from '@peculiar/asn1-schema';
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from '@peculiar/asn1-x509';
import { OID } from './oids.ts';
import { PkiError } from './pki-error.ts';

/** The subject and issuer fields Amulet writes and reads (RFC 5280 section 4.1.2.4). */
export interface NameFields {
  readonly country?: string;
  readonly organization?: string;
  readonly organizationalUnit?: string;
  readonly serialNumber?: string;
  readonly commonName?: string;
}

type FieldName = keyof NameFields;

/** Attribute order in the encoded name, and which X.520 string type each uses. */
const FIELDS: readonly { field: FieldName; oid: string; printable: boolean; pattern: RegExp }[] = [
  { field: 'country', oid: OID.country, printable: true, pattern: /^[A-Z]{2}$/ },
  { field: 'organization', oid: OID.organization, printable: false, pattern: /^[^\p{Cc}]{1,64}$/u },
  {
    field: 'organizationalUnit',
    oid: OID.organizationalUnit,
    printable: false,
    pattern: /^[^\p{Cc}]{1,64}$/u,
  },
  // X.520: serialNumber is a PrintableString.
  { field: 'serialNumber', oid: OID.serialNumber, printable: true, pattern: /^[A-Za-z0-9 .:-]{1,64}$/ },
  { field: 'commonName', oid: OID.commonName, printable: false, pattern: /^[^\p{Cc}]{1,64}$/u },
];

/** The name field an attribute type stands for, or undefined for one Amulet does not read. */
export function nameFieldOf(oid: string): FieldName | undefined {
  return FIELDS.find((f) => f.oid === oid)?.field;
}

/** Builds an X.501 Name, one attribute per RDN, in a fixed order. */
export function buildName(fields: NameFields): Name {
  const rdns: RelativeDistinguishedName[] = [];
  for (const { field, oid, printable, pattern } of FIELDS) {
    const value = fields[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !pattern.test(value)) {
      throw new PkiError('ERR_PKI_ATTRIBUTE', `name field ${field} is not allowed or too long`, {
        path: [field],
      });
    }
    const attributeValue = new AttributeValue(printable ? { printableString: value } : { utf8String: value });
    rdns.push(
      new RelativeDistinguishedName([new AttributeTypeAndValue({ type: oid, value: attributeValue })]),
    );
  }
  if (rdns.length === 0) throw new PkiError('ERR_PKI_ATTRIBUTE', 'a name needs at least one field');
  return new Name(rdns);
}

export function encodeName(fields: NameFields): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(buildName(fields)));
}

/** Reads the fields Amulet knows from a parsed Name; other attributes are ignored. */
export function readName(name: Name): NameFields {
  const out: Record<string, string> = {};
  for (const rdn of name) {
    for (const attribute of rdn) {
      const field = nameFieldOf(attribute.type);
      if (field !== undefined) out[field] = attribute.value.toString();
    }
  }
  return out as NameFields;
}

/** Parses a Name from DER. */
export function decodeName(der: Uint8Array): NameFields {
  try {
    return readName(AsnConvert.parse(der, Name));
  } catch (cause) {
    throw new PkiError('ERR_PKI_DER', 'name is not a DER X.501 Name', { cause });
  }
}

/** A one-line rendering such as `CN=Model X,O=Acme`, for logs and the command line. */
export function formatName(fields: NameFields): string {
  const short: Record<FieldName, string> = {
    country: 'C',
    organization: 'O',
    organizationalUnit: 'OU',
    serialNumber: 'serialNumber',
    commonName: 'CN',
  };
  return [...FIELDS]
    .reverse()
    .filter(({ field }) => fields[field] !== undefined)
    .map(({ field }) => `${short[field]}=${fields[field]}`)
    .join(',');
}
