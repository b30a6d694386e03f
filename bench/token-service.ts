/**
 * The token service (issue 6): durable tokenizations per second (JWE decrypted in the HSM, device
 * chain verified, ID&V with an issuer over ISO 8583 on TCP, vault row committed) and
 * detokenize-and-validate per second with p50/p99 (token read, ATC check, ARQC recomputed in the
 * HSM, ATC mark and verdict committed, PAN decrypted), in process and over ISO 8583 on TCP.
 * The vault is pre-filled first (default 100,000 tokens; `--tokens 1000000` for the issue's figure).
 *
 *   npx tsx bench/token-service.ts [--tokens N] [--postgres] [--tokenize N] [--validate N] [--in-flight N] [--devices N] [--cpu-prof PREFIX]
 *
 * `--devices N`: the tokenizations come from N wearables (default 16, whose certificate chains the
 * service has parsed and verified after the first few); with N equal to `--tokenize` every
 * tokenization is a device seen for the first time.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { createTcpTransport } from '../modules/transport/src/index.ts';
import { luhnCheckDigit } from '../packages/emv/src/index.ts';
import type { Iso8583Message } from '../packages/iso8583/src/index.ts';
import { iso8583Codec, startAuthorizationServer } from '../services/token-service/src/index.ts';
import {
  activeToken,
  encryptCard,
  newWearable,
  startTsp,
  TRID,
  tapRequest,
} from '../services/token-service/test/harness.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const kind = process.argv.includes('--postgres') ? 'postgres' : 'sqlite';
const prefill = arg('--tokens', 100_000);
const tokenizeCount = arg('--tokenize', 2_000);
const validateCount = arg('--validate', 20_000);
/** Validations in flight: one per token, each token's taps in ATC order (8 tokens per SE). */
const inFlight = arg('--in-flight', 64);
const deviceCount = arg('--devices', 16);
if (!Number.isSafeInteger(deviceCount) || deviceCount < 1) {
  console.error('--devices takes a positive whole number');
  process.exit(2);
}
/** `--cpu-prof PREFIX`: a V8 CPU profile of each measured phase only (not the pre-fill or setup). */
const profileAt = process.argv.indexOf('--cpu-prof');
const profilePrefix = profileAt >= 0 ? process.argv[profileAt + 1] : undefined;

/** Transactions per commit during a phase: how many operations each group commit's fsync carried. */
function batching(store: { stats(): { transactions: number; commits: number } }) {
  const before = store.stats();
  return (): { commits: number; perCommit: number } => {
    const after = store.stats();
    const commits = after.commits - before.commits;
    const transactions = after.transactions - before.transactions;
    return { commits, perCommit: Number((transactions / Math.max(1, commits)).toFixed(1)) };
  };
}

/** Runs `work`, returning its result and the process CPU time (user + system) it took, in ms. */
async function timed<T>(phase: string, work: () => Promise<T>): Promise<{ result: T; cpuMs: number }> {
  let session: Session | undefined;
  if (profilePrefix !== undefined) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const before = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(before);
  if (session !== undefined) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(`${profilePrefix}-${phase}.cpuprofile`, JSON.stringify(profile));
    session.disconnect();
  }
  return { result, cpuMs: (used.user + used.system) / 1000 };
}

function pan(prefix: string, n: number): string {
  const body = `${prefix}${String(n).padStart(15 - prefix.length, '0')}`;
  return body + luhnCheckDigit(body);
}

/**
 * A pre-filled row's id: `tok_` or `pan_` and 24 hex digits spread like the random ids the service
 * gave before ordered ids, so new rows go into a vault whose indexes already hold them all.
 */
function fillId(prefix: string, i: number): string {
  return `${prefix}_${createHash('sha256').update(`fill/${i}`).digest('hex').slice(0, 24)}`;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

async function pump(inFlight: number, total: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) await op(next++);
    }),
  );
  return total / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const tsp = await startTsp(kind, 'bench');
  const store = tsp.handle.store;
  try {
    // ---- Pre-fill: real envelope encryption per record, one transaction per token, group commit ----
    const t0 = performance.now();
    await pump(256, prefill, async (i) => {
      const card = pan('400000', i);
      const protectedCard = await tsp.service.cards.protect({ pan: card, expiry: '3012' });
      const tokenId = fillId('tok', i);
      await store.transaction(async (tx) => {
        const record = await tx.vault.insertPanRecord({
          id: fillId('pan', i),
          par: `A1B2${String(i).padStart(25, '0')}`,
          ...protectedCard,
        });
        await tx.vault.insertToken({
          id: tokenId,
          dpan: pan('48951', i),
          tokenExpiry: '2911',
          status: 'active',
          requestorTrid: TRID,
          panRecordId: record.id,
          device: { certificateSerial: '01', certificateFingerprint: `fill-${i % 10_000}` },
          domainControls: { posEntryModes: ['07'] },
          assuranceMethod: '10',
          actor: 'wallet',
        });
        await tx.cards.add({
          tokenId,
          cvn: 18,
          psn: '00',
          imkKeyId: 'imk-visa',
          provisioning: 'confirmed',
        });
      });
    });
    const prefillSeconds = (performance.now() - t0) / 1000;
    console.log(`pre-filled ${prefill} tokens on ${kind} in ${prefillSeconds.toFixed(1)} s`);

    // ---- Durable tokenizations through the whole service ----
    const wearables = await Promise.all(
      Array.from({ length: deviceCount }, (_, i) => newWearable(tsp, `SN-B${i}`)),
    );
    const jwes: string[] = [];
    for (let i = 0; i < tokenizeCount; i++)
      jwes.push(await encryptCard(tsp, { pan: pan('476173', 100_000 + i), expiry: '3012' }));
    const tokenizeBatching = batching(store);
    const tokenizeRun = await timed('tokenize', () =>
      pump(64, tokenizeCount, async (i) => {
        const outcome = await tsp.service.tokenize({
          requestorTrid: TRID,
          encryptedCard: jwes[i] as string,
          deviceCertificateChain: (wearables[i % wearables.length] as (typeof wearables)[number]).chain,
        });
        if (outcome.status !== 'provisioning') throw new Error(`tokenize: ${outcome.status}`);
      }),
    );
    const tokenizePerSecond = tokenizeRun.result;
    const tokenizeCpuMs = tokenizeRun.cpuMs / tokenizeCount;
    const tokenizeCommits = tokenizeBatching();
    console.log(
      `tokenize: ${tokenizePerSecond.toFixed(0)} durable tokenizations/s, ${tokenizeCpuMs.toFixed(3)} ms CPU each (${tokenizeCount} from ${deviceCount} devices, 64 in flight; ${tokenizeCommits.perCommit} transactions per commit)`,
    );

    // ---- Validations: real taps on provisioned tokens (8 per secure element) ----
    const tokenCount = inFlight;
    const tokens = [];
    let wearable = await newWearable(tsp, 'SN-V0');
    for (let i = 0; i < tokenCount; i++) {
      if (i > 0 && i % 8 === 0) wearable = await newWearable(tsp, `SN-V${i}`);
      tokens.push(await activeToken(tsp, pan('476173', 500_000 + i), `SN-V${i}`, '3012', wearable));
    }
    const perToken = Math.ceil(validateCount / tokenCount);
    const queues: Iso8583Message[][] = tokens.map(() => []);
    for (let round = 0; round < perToken * 2; round++)
      for (const [t, token] of tokens.entries()) {
        const aid = token.se.tokens().find((x) => x.id === token.token.id)?.aid;
        const { request } = await tapRequest(token.se, token.token.tokenExpiry, {
          ...(aid === undefined ? {} : { aid }),
          stan: (round * tokenCount + t) % 1_000_000,
        });
        (queues[t] as Iso8583Message[]).push(request);
      }
    const measure = async (
      label: string,
      send: (request: Iso8583Message) => Promise<Iso8583Message>,
      half: 0 | 1,
    ) => {
      const latencies: number[] = [];
      let approved = 0;
      const start = performance.now();
      const commits = batching(store);
      const { cpuMs } = await timed(half === 0 ? 'validate-in-process' : 'validate-tcp', () =>
        Promise.all(
          queues.map(async (queue) => {
            for (const request of queue.slice(half * perToken, (half + 1) * perToken)) {
              const t = performance.now();
              const response = await send(request);
              latencies.push(performance.now() - t);
              if (response.fields.get(39) === '00') approved++;
            }
          }),
        ),
      );
      const seconds = (performance.now() - start) / 1000;
      latencies.sort((a, b) => a - b);
      const row = {
        label,
        perSecond: Math.round(latencies.length / seconds),
        p50Ms: Number(percentile(latencies, 0.5).toFixed(3)),
        p99Ms: Number(percentile(latencies, 0.99).toFixed(3)),
        cpuMsPerValidation: Number((cpuMs / latencies.length).toFixed(4)),
        approved,
        count: latencies.length,
        transactionsPerCommit: commits().perCommit,
      };
      console.log(
        `validate ${label}: ${row.perSecond}/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, ${row.cpuMsPerValidation} ms CPU each (${approved}/${row.count} approved, ${tokenCount} in flight; ${row.transactionsPerCommit} transactions per commit)`,
      );
      return row;
    };
    const inProcess = await measure('in process', (r) => tsp.authorizer.authorize(r), 0);
    const server = await startAuthorizationServer(tsp.authorizer);
    const client = createTcpTransport({ codec: iso8583Codec }).connect(server.endpoint, {
      maxInFlight: 1024,
    });
    await client.connected();
    const overTcp = await measure('ISO 8583 over TCP', (r) => client.request(r, { timeoutMs: 30_000 }), 1);
    await client.close();
    await server.close();
    console.log(
      JSON.stringify({
        bench: 'token-service',
        store: kind,
        vaultTokens: prefill,
        prefillSeconds: Number(prefillSeconds.toFixed(1)),
        inFlight,
        devices: deviceCount,
        tokenizePerSecond: Math.round(tokenizePerSecond),
        tokenizeCpuMs: Number(tokenizeCpuMs.toFixed(3)),
        tokenizeTransactionsPerCommit: tokenizeCommits.perCommit,
        validate: [inProcess, overTcp],
      }),
    );
  } finally {
    await tsp.close();
  }
}

await main();
