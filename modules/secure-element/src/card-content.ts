import { fromHex, toHex } from '@amulet/bytes';
import type { Profile } from './state.ts';

/**
 * Card content management commands of the issuer security domain (GlobalPlatform Card
 * Specification v2.3 section 11): the parts of INSTALL, DELETE and SET STATUS data this SE reads.
 * Parsers return undefined for anything malformed; the SE answers 6A80.
 */

/** Executable load files and modules present in this SE: one per kernel profile. */
export const executableModules: Readonly<
  Record<Profile, { readonly loadFile: string; readonly module: string }>
> = {
  qvsdc: { loadFile: 'A000000003', module: 'A0000000031010' },
  mchip: { loadFile: 'A000000004', module: 'A0000000041010' },
};

export interface InstallForInstall {
  readonly loadFile: string;
  readonly module: string;
  readonly application: string;
  readonly profile: Profile;
}

/** Reads length-prefixed fields (one length byte each) that must fill `data` exactly. */
function fields(data: Uint8Array, count: number): Uint8Array[] | undefined {
  const out: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const length = data[offset];
    if (length === undefined || offset + 1 + length > data.length) return undefined;
    out.push(data.subarray(offset + 1, offset + 1 + length));
    offset += 1 + length;
  }
  return offset === data.length ? out : undefined;
}

/**
 * INSTALL [for install and make selectable] (11.5.2.3.3): load file AID, module AID,
 * application AID (5 to 16 bytes, under the module's RID), privileges, parameters (C9 present),
 * install token (empty: the ISD itself authorizes, inside its secure channel).
 */
export function parseInstallForInstall(data: Uint8Array): InstallForInstall | undefined {
  const f = fields(data, 6);
  if (f === undefined) return undefined;
  const [loadFile, module, application, privileges, parameters, token] = f as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  const profile = (Object.keys(executableModules) as Profile[]).find(
    (p) => executableModules[p].loadFile === toHex(loadFile) && executableModules[p].module === toHex(module),
  );
  if (profile === undefined) return undefined;
  if (application.length < 5 || application.length > 16) return undefined;
  if (!toHex(application).startsWith(executableModules[profile].module)) return undefined;
  if (privileges.length !== 1 && privileges.length !== 3) return undefined;
  if (parameters.length < 2 || parameters[0] !== 0xc9 || token.length !== 0) return undefined;
  return { loadFile: toHex(loadFile), module: toHex(module), application: toHex(application), profile };
}

/** INSTALL [for personalization] (11.5.2.3.5): 00, 00, the application AID, 00, 00, 00. */
export function parseInstallForPersonalization(data: Uint8Array): string | undefined {
  const f = fields(data, 6);
  if (f === undefined) return undefined;
  const [a, b, application, c, d, e] = f;
  if (a?.length !== 0 || b?.length !== 0 || c?.length !== 0 || d?.length !== 0 || e?.length !== 0)
    return undefined;
  if (application === undefined || application.length < 5 || application.length > 16) return undefined;
  return toHex(application);
}

/** The data of DELETE (11.2.2.3) and SET STATUS (11.10.2.3): 4F L AID, or the bare AID for SET STATUS. */
export function parseAidObject(data: Uint8Array): string | undefined {
  if (data.length < 7 || data[0] !== 0x4f || data[1] !== data.length - 2 || data.length - 2 > 16)
    return undefined;
  return toHex(data.subarray(2));
}

export function installForInstallData(profile: Profile, application: string): Uint8Array {
  const { loadFile, module } = executableModules[profile];
  const lv = (hex: string) => [hex.length / 2, ...fromHex(hex)];
  // Privileges 00 (none); parameters C9 00 (no application-specific parameters); no token.
  return Uint8Array.from([...lv(loadFile), ...lv(module), ...lv(application), 1, 0x00, 2, 0xc9, 0x00, 0]);
}

export function installForPersonalizationData(application: string): Uint8Array {
  return Uint8Array.from([0, 0, application.length / 2, ...fromHex(application), 0, 0, 0]);
}
