import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import {
  buildCsr,
  fromPem,
  isRevocationReason,
  type NameFields,
  REVOCATION_REASONS,
  SERVICE_ROLES,
  type ServiceRole,
  type Signer,
  toPem,
} from '@amulet/pki';
import {
  CertificateAuthority,
  createEnrollmentServer,
  createOcspServer,
  MASTER_KEY_ENV,
  MASTER_KEY_FILE,
  resolveMasterKey,
  runKeyCeremony,
  writeDemoMasterKey,
} from '@amulet/root-of-trust';
import type { Command } from 'commander';
import { type CliIo, choiceOption, hexOption, printJson, UsageError } from '../io.ts';

const FACTORY_TOKEN_ENV = 'AMULET_FACTORY_TOKEN';
const OPERATOR_TOKEN_ENV = 'AMULET_OPERATOR_TOKEN';

interface DirOptions {
  dir: string;
  masterKeyFile?: string;
}

function readInputFile(option: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`${option} file cannot be read`);
  }
}

function openCa(options: DirOptions): CertificateAuthority {
  const masterKey = resolveMasterKey({ file: options.masterKeyFile, env: process.env, dir: options.dir });
  return CertificateAuthority.open({ dir: options.dir, masterKey });
}

function portOption(value: string): number {
  if (!/^[0-9]{1,5}$/.test(value) || Number(value) > 65_535)
    throw new UsageError('--port must be 0 to 65535');
  return Number(value);
}

/** `--subject "CN=Band 2,O=ACME,serialNumber=SN-1"`: the fields Amulet's names use. */
function subjectOption(value: string): NameFields {
  const keys: Record<string, keyof NameFields> = {
    CN: 'commonName',
    O: 'organization',
    OU: 'organizationalUnit',
    C: 'country',
    SERIALNUMBER: 'serialNumber',
  };
  const fields: Record<string, string> = {};
  for (const part of value.split(',')) {
    const at = part.indexOf('=');
    const key = keys[part.slice(0, at).trim().toUpperCase()];
    if (at < 1 || key === undefined)
      throw new UsageError('--subject must be KEY=value pairs with keys CN, O, OU, C, serialNumber');
    fields[key] = part.slice(at + 1).trim();
  }
  return fields as NameFields;
}

/** A throwaway device key for `rot csr`: it signs here and is written out for the test device. */
function softwareDeviceSigner(): { signer: Signer; pkcs8Pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  return {
    pkcs8Pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    signer: {
      algorithm: 'ES256',
      publicKeySpki: () => spki,
      sign: async (data) => new Uint8Array(sign('sha256', data, { key: privateKey, dsaEncoding: 'der' })),
    },
  };
}

/** Listens, says where on stderr, and serves until SIGINT or SIGTERM. */
async function serveUntilStopped(io: CliIo, server: Server, port: number, host: string, what: string) {
  await new Promise<void>((resolve, reject) => {
    server.once('error', () => reject(new UsageError('--port cannot be listened on')));
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  io.stderr(`amulet: ${what} on http://${host}:${bound}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.closeAllConnections();
      server.close(() => resolve());
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** `amulet rot ...`: the root of trust (docs/root-of-trust.md). */
export function registerRot(program: Command, io: CliIo): void {
  const rot = program.command('rot').description('root of trust: CA hierarchy, enrollment, revocation, OCSP');

  rot
    .command('init')
    .description('key ceremony: create the root, device CA and service CA, their keys, CRLs and state')
    .requiredOption('--dir <dir>', 'directory to create the root of trust in')
    .option('--tenant <id>', 'tenant (OEM) the device CA serves', 'default')
    .option('--organization <name>', 'organization named in the CA certificates', 'Amulet')
    .option('--root-curve <curve>', 'root key curve: P-256 or P-384', 'P-256')
    .option('--ocsp-url <url>', 'OCSP URL written into issued certificates')
    .option('--crl-url <url>', 'base URL of CRLs written into issued certificates')
    .option(
      '--master-key-file <file>',
      `keystore master key (64 hex digits); else ${MASTER_KEY_ENV}; else generated`,
    )
    .action(async (options: DirOptions & Record<string, string | undefined>) => {
      const rootCurve = choiceOption('--root-curve', options.rootCurve ?? 'P-256', [
        'P-256',
        'P-384',
      ] as const);
      if (existsSync(join(options.dir, 'state.json')))
        throw new UsageError('--dir already holds a root of trust');
      let masterKey: Uint8Array;
      if (options.masterKeyFile !== undefined || process.env[MASTER_KEY_ENV]) {
        masterKey = resolveMasterKey({ file: options.masterKeyFile, env: process.env, dir: options.dir });
      } else {
        masterKey = new Uint8Array(randomBytes(32));
        io.stderr(
          `amulet: warning: demo master key written to ${MASTER_KEY_FILE} beside the keys; keep it elsewhere in production\n`,
        );
      }
      const files = await runKeyCeremony({
        dir: options.dir,
        masterKey,
        tenantId: options.tenant ?? 'default',
        organization: options.organization ?? 'Amulet',
        rootCurve,
        now: new Date(),
        ...(options.ocspUrl === undefined ? {} : { ocspUrl: options.ocspUrl }),
        ...(options.crlUrl === undefined ? {} : { crlUrl: options.crlUrl }),
      });
      if (options.masterKeyFile === undefined && !process.env[MASTER_KEY_ENV])
        writeDemoMasterKey(options.dir, masterKey);
      printJson(io, {
        dir: options.dir,
        files: files.map((f) => f.slice(options.dir.length).replace(/^[\\/]/, '')),
      });
    });

  rot
    .command('issue')
    .description('issue a certificate for a CSR and print it as PEM')
    .requiredOption('--profile <profile>', 'device or service')
    .requiredOption('--csr <file>', 'PEM certificate request, signed by the subject key')
    .requiredOption('--dir <dir>', 'root of trust directory')
    .option('--oem <id>', 'device OEM (default: the CSR subject O)')
    .option('--model <model>', 'device model (default: the CSR subject CN)')
    .option('--serial <serial>', 'device serial number (default: the CSR subject serialNumber)')
    .option('--se-type <type>', 'secure element type: embedded, integrated, removable, software')
    .option('--cn <name>', 'service name (default: the CSR subject CN)')
    .option('--role <role...>', `service roles: ${SERVICE_ROLES.join(', ')}`)
    .option('--dns <name...>', 'service DNS names')
    .option('--master-key-file <file>', 'keystore master key file')
    .action(async (options: DirOptions & Record<string, string | string[] | undefined>) => {
      const profile = choiceOption('--profile', String(options.profile), ['device', 'service'] as const);
      const csr = fromPem(readInputFile('--csr', String(options.csr)), 'CERTIFICATE REQUEST');
      const ca = openCa(options);
      const text = (name: string) => options[name] as string | undefined;
      const issued =
        profile === 'device'
          ? await ca.issue({
              profile,
              csr,
              oemId: text('oem'),
              model: text('model'),
              serialNumber: text('serial'),
              seType: text('seType'),
            })
          : await ca.issue({
              profile,
              csr,
              commonName: text('cn'),
              roles: ((options.role as string[] | undefined) ?? []).map((role) =>
                choiceOption('--role', role, SERVICE_ROLES),
              ) as ServiceRole[],
              dnsNames: (options.dns as string[] | undefined) ?? [],
            });
      io.stdout(issued.pem);
    });

  rot
    .command('revoke')
    .description('revoke an issued certificate and re-sign its CA CRL')
    .requiredOption('--dir <dir>', 'root of trust directory')
    .requiredOption('--serial <hex>', 'certificate serial number (hex)')
    .option('--reason <reason>', `one of ${Object.keys(REVOCATION_REASONS).join(', ')}`, 'unspecified')
    .option('--master-key-file <file>', 'keystore master key file')
    .action(async (options: DirOptions & { serial: string; reason: string }) => {
      const serial = hexOption('--serial', options.serial);
      if (serial.length === 0 || serial.length > 21) throw new UsageError('--serial must be 1 to 20 bytes');
      if (!isRevocationReason(options.reason)) {
        throw new UsageError(`--reason must be one of ${Object.keys(REVOCATION_REASONS).join(', ')}`);
      }
      const serialHex = Buffer.from(serial).toString('hex').toUpperCase();
      await openCa(options).revoke(serialHex, options.reason);
      printJson(io, { serial: serialHex.replace(/^(00)+(?=.)/, ''), revoked: true, reason: options.reason });
    });

  rot
    .command('crl')
    .description('re-sign the device CA and service CA CRLs (they last 7 days)')
    .requiredOption('--dir <dir>', 'root of trust directory')
    .option('--master-key-file <file>', 'keystore master key file')
    .action(async (options: DirOptions) => {
      await openCa(options).writeCrls();
      printJson(io, { crls: ['device-ca.crl.pem', 'service-ca.crl.pem'] });
    });

  rot
    .command('ocsp')
    .description('serve OCSP (RFC 6960) for the device CA and service CA until stopped')
    .requiredOption('--dir <dir>', 'root of trust directory')
    .requiredOption('--port <n>', 'TCP port')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--master-key-file <file>', 'keystore master key file')
    .action(async (options: DirOptions & { port: string; host: string }) => {
      const port = portOption(options.port);
      await serveUntilStopped(io, createOcspServer(openCa(options)), port, options.host, 'OCSP responder');
    });

  rot
    .command('enroll-server')
    .description(
      `serve POST /enroll until stopped; bearer secrets from ${FACTORY_TOKEN_ENV} and ${OPERATOR_TOKEN_ENV}`,
    )
    .requiredOption('--dir <dir>', 'root of trust directory')
    .requiredOption('--port <n>', 'TCP port')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--master-key-file <file>', 'keystore master key file')
    .action(async (options: DirOptions & { port: string; host: string }) => {
      const port = portOption(options.port);
      // Secrets come from the environment, never from arguments (visible to other users in ps).
      const factory = process.env[FACTORY_TOKEN_ENV] ?? '';
      const operator = process.env[OPERATOR_TOKEN_ENV] ?? '';
      if (factory.length < 16 && operator.length < 16) {
        throw new UsageError(
          `set ${FACTORY_TOKEN_ENV} or ${OPERATOR_TOKEN_ENV} to a secret of 16 characters or more`,
        );
      }
      const credentials = {
        ...(factory.length >= 16 ? { factory } : {}),
        ...(operator.length >= 16 ? { operator } : {}),
      };
      const server = createEnrollmentServer(openCa(options), credentials);
      await serveUntilStopped(io, server, port, options.host, 'enrollment server');
    });

  rot
    .command('csr')
    .description('make a test device key and CSR (a real device makes both inside its secure element)')
    .requiredOption('--key-out <file>', 'where to write the new private key (PKCS #8 PEM, mode 600)')
    .requiredOption('--subject <fields>', 'e.g. "CN=Band 2,O=ACME,serialNumber=SN-0001"')
    .option('--out <file>', 'write the CSR here instead of printing it')
    .action(async (options: { keyOut: string; subject: string; out?: string }) => {
      const subject = subjectOption(options.subject);
      const { signer, pkcs8Pem } = softwareDeviceSigner();
      const pem = toPem('CERTIFICATE REQUEST', await buildCsr(subject, signer));
      try {
        writeFileSync(options.keyOut, pkcs8Pem, { mode: 0o600 });
        if (options.out !== undefined) writeFileSync(options.out, pem);
      } catch {
        throw new UsageError('--key-out or --out cannot be written');
      }
      if (options.out === undefined) io.stdout(pem);
    });
}
