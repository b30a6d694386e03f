import { readFileSync } from 'node:fs';

// biome-ignore lint/suspicious/noExplicitAny: vector files are free-form JSON; each test reads the fields it knows.
type VectorFields = Record<string, any>;

export interface VectorCase {
  readonly id: string;
  readonly algorithm: string;
  readonly inputs: VectorFields;
  readonly expected: VectorFields;
  readonly derived?: VectorFields;
  readonly source: { readonly repo: string; readonly commit?: string; readonly file: string };
}

/** Reads one of the published vector files copied into test/vectors (provenance kept per case). */
export function loadVectors(name: string): VectorCase[] {
  const file = JSON.parse(readFileSync(new URL(`./vectors/${name}.json`, import.meta.url), 'utf8'));
  return file.vectors;
}
