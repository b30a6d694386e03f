import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeStatusWord } from '@amulet/apdu';
import { AmuletError, fromHex, toHex } from '@amulet/bytes';
import { toPem } from '@amulet/pki';
import {
  fileBlobStore,
  fileCounter,
  type SeTransport,
  tap,
  webSocketTransport,
} from '@amulet/secure-element';
import { decodeTlv, formatTlv } from '@amulet/tlv';
import type { Command } from 'commander';
import { formatTrace } from './apdu-trace.ts';
import { enrollOverHttp } from './enroll-over-http.ts';
import { Wearable } from './wearable.ts';

/** Where the commands write (the amulet CLI passes its own). */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const usage = (message: string) => new AmuletError('ERR_USAGE', message);

/** The factory's enrollment secret, as `amulet rot enroll-server` reads it. */
export const FACTORY_TOKEN_ENV = 'AMULET_FACTORY_TOKEN';

function hexArgument(name: string, value: string): Uint8Array {
  try {
    return fromHex(value.replace(/\s+/g, ''));
  } catch {
    throw usage(`${name} must be hexadecimal with an even number of digits`);
  }
}

function integerOption(name: string, value: string, min: number, max: number): number {
  if (!/^[0-9]{1,12}$/.test(value) || Number(value) < min || Number(value) > max)
    throw usage(`${name} must be an integer from ${min} to ${max}`);
  return Number(value);
}

function hostPort(name: string, value: string): { host: string; port: number } {
  const match = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):([0-9]{1,5})$/.exec(value);
  if (match === null) throw usage(`${name} must be host:port`);
  return {
    host: (match[1] ?? '').replace(/^\[|\]$/g, ''),
    port: integerOption(name, match[2] ?? '', 1, 65_535),
  };
}

/** A fresh in-memory wearable with the sandbox cards: what `amulet se` talks to by default. */
function sandboxWearable(): Wearable {
  return Wearable.open({
    deviceKey: new Uint8Array(randomBytes(32)),
    rng: (n) => new Uint8Array(randomBytes(n)),
    clock: () => Date.now(),
    sandboxCards: true,
  });
}

async function connect(url: string | undefined): Promise<{ transport: SeTransport; wearable?: Wearable }> {
  if (url === undefined) {
    const wearable = sandboxWearable();
    return { transport: wearable.nfc, wearable };
  }
  if (!/^wss?:\/\//.test(url)) throw usage('--connect must be a ws:// or wss:// URL');
  return { transport: await webSocketTransport(url) };
}

/** A response for a person: the status word and its meaning, the data decoded and masked unless --reveal. */
function describeResponse(response: Uint8Array, reveal: boolean): string {
  const sw = ((response[response.length - 2] ?? 0) << 8) | (response[response.length - 1] ?? 0);
  const data = response.subarray(0, Math.max(0, response.length - 2));
  let meaning = 'not a valid status word';
  try {
    meaning = describeStatusWord(sw).meaning;
  } catch {
    // keep the fixed text: a reader must not crash on a bad card
  }
  const lines = [`< SW ${toHex(response.subarray(-2))} (${meaning})`];
  if (data.length === 0) return lines.join('\n');
  if (reveal) lines.push(`  ${toHex(data)}`);
  try {
    lines.push(
      ...formatTlv(decodeTlv(data), { reveal })
        .split('\n')
        .map((l) => `  ${l}`),
    );
  } catch {
    if (!reveal) lines.push(`  [${data.length} bytes, not BER-TLV; --reveal shows them]`);
  }
  return lines.join('\n');
}

/** `amulet se ...`: talk APDUs to a secure element (a fresh sandbox one, or a wearable over WebSocket). */
export function registerSeCommands(program: Command, io: CommandIo): void {
  const se = program
    .command('se')
    .description('talk APDUs to a secure element: a fresh one with the sandbox cards, or --connect ws://...');

  se.command('apdu')
    .description('send command APDUs in order and print each response (card data masked unless --reveal)')
    .argument('<hex...>', 'command APDUs as hexadecimal')
    .option('--connect <url>', 'a wearable served by "amulet wearable run" (ws://host:port)')
    .option('--reveal', 'print response data in full')
    .option('--json', 'print one JSON object {"exchanges": [{"command", "response"}]} (implies --reveal)')
    .action(async (hexes: string[], options: { connect?: string; reveal?: boolean; json?: boolean }) => {
      const commands = hexes.map((h, i) => hexArgument(`APDU ${i + 1}`, h));
      const { transport } = await connect(options.connect);
      try {
        const exchanges: { command: string; response: string }[] = [];
        for (const command of commands) {
          const response = await transport.transmit(command);
          exchanges.push({ command: toHex(command), response: toHex(response) });
          if (options.json !== true)
            io.stdout(`> ${toHex(command)}\n${describeResponse(response, options.reveal === true)}\n`);
        }
        if (options.json === true) io.stdout(`${JSON.stringify({ exchanges })}\n`);
      } finally {
        await transport.close?.();
      }
    });

  se.command('ppse')
    .description('SELECT the PPSE (2PAY.SYS.DDF01) and print the directory, default card first')
    .option('--connect <url>', 'a wearable served by "amulet wearable run" (ws://host:port)')
    .action(async (options: { connect?: string }) => {
      const { transport } = await connect(options.connect);
      try {
        const response = await transport.transmit(fromHex('00A404000E325041592E5359532E444446303100'));
        io.stdout(`${describeResponse(response, false)}\n`);
      } finally {
        await transport.close?.();
      }
    });
}

/** Opens (or creates) a wearable whose state lives in a directory: sealed blob, counter, device key. */
export function openWearableDir(dir: string, sandboxCards: boolean, onSas?: (sas: string) => void): Wearable {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, 'device.key');
  // The simulator's device-unique key; a real SE derives it from fused secrets.
  if (!existsSync(keyPath)) writeFileSync(keyPath, `${toHex(randomBytes(32))}\n`, { mode: 0o600 });
  let deviceKey: Uint8Array;
  try {
    deviceKey = fromHex(readFileSync(keyPath, 'utf8').trim());
  } catch {
    throw usage('the device key file is not 64 hex digits');
  }
  return Wearable.open({
    deviceKey,
    rng: (n) => new Uint8Array(randomBytes(n)),
    clock: () => Date.now(),
    blobs: fileBlobStore(join(dir, 'se.blob')),
    counter: fileCounter(join(dir, 'se.counter')),
    sandboxCards,
    ...(onSas === undefined ? {} : { onSas }),
  });
}

/** `amulet wearable ...`: the device simulator. */
export function registerWearableCommands(program: Command, io: CommandIo): void {
  const wearable = program
    .command('wearable')
    .description('the wearable simulator: secure element, NFC field, phone link');

  wearable
    .command('run')
    .description("serve the wearable's NFC field (and its phone link) over WebSocket until SIGINT or SIGTERM")
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port (0 picks one)', '0')
    .option('--link-port <n>', 'also serve the secure link to the companion phone on this port (0 picks one)')
    .option('--state-dir <dir>', "keep the SE's sealed state here (default: in memory)")
    .option('--sandbox-card', 'load the sandbox cards into an empty SE')
    .option(
      '--vpcd <host:port>',
      'also attach to pcscd as a virtual card (vsmartcard vpcd, e.g. 127.0.0.1:35963)',
    )
    .action(
      async (options: {
        host: string;
        port: string;
        linkPort?: string;
        stateDir?: string;
        sandboxCard?: boolean;
        vpcd?: string;
      }) => {
        const port = integerOption('--port', options.port, 0, 65_535);
        const linkPort =
          options.linkPort === undefined
            ? undefined
            : integerOption('--link-port', options.linkPort, 0, 65_535);
        const vpcd = options.vpcd === undefined ? undefined : hostPort('--vpcd', options.vpcd);
        // The wearable's screen: the short code a phone's user compares while pairing.
        const onSas = (sas: string) => io.stderr(`pairing code on the wearable: ${sas}\n`);
        const device =
          options.stateDir === undefined
            ? Wearable.open({
                deviceKey: new Uint8Array(randomBytes(32)),
                rng: (n) => new Uint8Array(randomBytes(n)),
                clock: () => Date.now(),
                sandboxCards: options.sandboxCard === true,
                onSas,
              })
            : openWearableDir(options.stateDir, options.sandboxCard === true, onSas);
        if (device.se.tamper !== undefined)
          io.stderr('amulet: the secure element is tampered; it answers 6581\n');
        const server = await device.serveNfc({ host: options.host, port });
        io.stderr(`wearable NFC field on ${server.url}\n`);
        const link =
          linkPort === undefined ? undefined : await device.serveLink({ host: options.host, port: linkPort });
        if (link !== undefined) io.stderr(`wearable phone link on ${link.url}\n`);
        const card = vpcd === undefined ? undefined : await device.attachVpcd(vpcd);
        if (vpcd !== undefined) io.stderr(`attached to vpcd at ${vpcd.host}:${vpcd.port}\n`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
          card?.closed.then(() => {
            io.stderr('amulet: the vpcd connection ended\n');
            resolve();
          });
        });
        await card?.close();
        await link?.close();
        await server.close();
      },
    );

  wearable
    .command('manufacture')
    .description(
      'make the device key inside the SE, enroll its CSR with the device CA, store the certificate',
    )
    .requiredOption('--state-dir <dir>', "the wearable's state directory (created if needed)")
    .requiredOption('--enroll-url <url>', "the root of trust's enrollment endpoint (POST /enroll)")
    .requiredOption('--serial <serial>', 'the device serial number')
    .option('--oem <oem>', 'the OEM (default: from the CSR subject)')
    .option('--model <model>', 'the device model')
    .action(
      async (options: {
        stateDir: string;
        enrollUrl: string;
        serial: string;
        oem?: string;
        model?: string;
      }) => {
        const credential = process.env[FACTORY_TOKEN_ENV];
        if (credential === undefined || credential.length < 16)
          throw usage(`the factory credential comes from ${FACTORY_TOKEN_ENV} (at least 16 characters)`);
        if (!/^https?:\/\//.test(options.enrollUrl))
          throw usage('--enroll-url must be an http:// or https:// URL');
        if (!/^[A-Za-z0-9 ._:-]{1,64}$/.test(options.serial))
          throw usage('--serial must be 1 to 64 of A-Z a-z 0-9 space . _ : -');
        const device = openWearableDir(options.stateDir, false);
        const subject = {
          ...(options.oem === undefined ? {} : { organization: options.oem }),
          serialNumber: options.serial,
          ...(options.model === undefined ? {} : { commonName: options.model }),
        };
        const chain = await device.manufacture(
          subject,
          enrollOverHttp({
            url: options.enrollUrl,
            credential,
            serialNumber: options.serial,
            ...(options.oem === undefined ? {} : { oemId: options.oem }),
            ...(options.model === undefined ? {} : { model: options.model }),
            seType: 'embedded',
          }),
        );
        io.stdout(chain.map((c) => toPem('CERTIFICATE', c)).join(''));
      },
    );

  wearable
    .command('trace')
    .description('tap a fresh wearable holding the sandbox cards and show the APDUs, decoded and masked')
    .option('--aid <hex>', 'the application to select (default: the first in the PPSE)')
    .option('--amount <minor>', 'amount in minor units', '1234')
    .action(async (options: { aid?: string; amount: string }) => {
      const amount = integerOption('--amount', options.amount, 0, 999_999_999_999);
      const aid = options.aid === undefined ? undefined : toHex(hexArgument('--aid', options.aid));
      const device = sandboxWearable();
      await tap((a) => device.nfc.transmit(a), {
        amount,
        unpredictableNumber: new Uint8Array(randomBytes(4)),
        ...(aid === undefined ? {} : { aid }),
      });
      io.stdout(`${formatTrace(device.trace.entries())}\n`);
    });
}
