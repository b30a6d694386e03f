import { readFileSync } from 'node:fs';

// biome-ignore lint/suspicious/noExplicitAny: vector files are free-form JSON; each test reads the fields it knows.
type VectorFields = Record<string, any>;

export interface VectorCase {
  readonly id: string;
  readonly algorithm: string;
  readonly inputs: VectorFields;
  readonly expected: VectorFields;
}

/** One of the published vector files copied into test/vectors (provenance kept per case). */
export function loadVectors(name: 'ac' | 'arpc' | 'tr31'): VectorCase[] {
  return JSON.parse(readFileSync(new URL(`./vectors/${name}.json`, import.meta.url), 'utf8')).vectors;
}

export function vector(name: 'ac' | 'arpc' | 'tr31', id: string): VectorCase {
  const found = loadVectors(name).find((v) => v.id === id);
  if (found === undefined) throw new Error(`no vector ${id}`);
  return found;
}
