import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * DESIGN.md, "Layout and the dependency rule": libraries import only libraries; modules import
 * libraries and modules; services import libraries and modules, never each other; apps compose.
 * This test reads every workspace package.json and every import in src/ and fails on an edge that
 * breaks the rule.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const rings = ['packages', 'modules', 'services', 'apps'] as const;
type Ring = (typeof rings)[number];

const allowed: Record<Ring, readonly Ring[]> = {
  packages: ['packages'],
  modules: ['packages', 'modules'],
  services: ['packages', 'modules'],
  apps: ['packages', 'modules', 'services', 'apps'],
};

interface Workspace {
  readonly name: string;
  readonly ring: Ring;
  readonly dir: string;
  readonly dependencies: readonly string[];
}

function workspaces(): Workspace[] {
  const found: Workspace[] = [];
  for (const ring of rings) {
    let entries: string[] = [];
    try {
      entries = readdirSync(join(root, ring));
    } catch {
      continue;
    }
    for (const entry of entries) {
      const dir = join(root, ring, entry);
      const manifestPath = join(dir, 'package.json');
      let manifest: {
        name: string;
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      try {
        manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      } catch {
        continue;
      }
      found.push({
        name: manifest.name,
        ring,
        dir,
        dependencies: [
          ...Object.keys(manifest.dependencies ?? {}),
          ...Object.keys(manifest.devDependencies ?? {}),
        ],
      });
    }
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
    else if (/\.(ts|js|mjs)$/.test(entry)) files.push(path);
  }
  return files;
}

const importPattern = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Which ring a relative import lands in, or undefined when it stays inside its own package. */
function ringOfPath(from: string, specifier: string): { ring: Ring; pkg: string } | undefined {
  const target = relative(root, join(from, '..', specifier)).split('/');
  const ring = target[0] as Ring;
  if (!rings.includes(ring) || target[1] === undefined) return undefined;
  return { ring, pkg: `${ring}/${target[1]}` };
}

describe('the dependency rule', () => {
  const all = workspaces();
  const byName = new Map(all.map((w) => [w.name, w]));

  it('finds the workspaces', () => {
    expect(all.length).toBeGreaterThan(0);
    for (const w of all) expect(w.name).toMatch(/^@amulet\//);
  });

  it('every package.json dependency on a workspace points inward', () => {
    const broken: string[] = [];
    for (const w of all) {
      for (const dependency of w.dependencies) {
        const target = byName.get(dependency);
        if (target === undefined) continue;
        if (!allowed[w.ring].includes(target.ring) || (w.ring === 'services' && target.ring === 'services')) {
          broken.push(`${w.name} (${w.ring}) -> ${target.name} (${target.ring})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('every import points inward, names a declared dependency, and no relative path escapes its package', () => {
    const broken: string[] = [];
    for (const w of all) {
      const ownDir = relative(root, w.dir);
      for (const file of [...sourceFiles(join(w.dir, 'src')).concat(safeFiles(join(w.dir, 'test')))]) {
        const text = readFileSync(file, 'utf8');
        for (const match of text.matchAll(importPattern)) {
          const specifier = (match[1] ?? match[2])!;
          if (specifier.startsWith('.')) {
            const landing = ringOfPath(file, specifier);
            if (landing !== undefined && landing.pkg !== ownDir) {
              broken.push(`${relative(root, file)} reaches into ${landing.pkg} by a relative path`);
            }
            continue;
          }
          const scoped = specifier.match(/^(@amulet\/[^/]+)/);
          if (!scoped) continue;
          const target = byName.get(scoped[1]!);
          if (target === undefined) {
            broken.push(`${relative(root, file)} imports unknown workspace ${scoped[1]}`);
            continue;
          }
          if (target.name === w.name) continue;
          if (!w.dependencies.includes(target.name)) {
            broken.push(`${relative(root, file)} imports ${target.name} without declaring it`);
          }
          if (
            !allowed[w.ring].includes(target.ring) ||
            (w.ring === 'services' && target.ring === 'services')
          ) {
            broken.push(`${relative(root, file)}: ${w.ring} may not import ${target.ring} (${target.name})`);
          }
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('libraries stay pure: no I/O, clock or randomness modules in packages/', () => {
    const impure =
      /from\s*['"](?:node:)?(fs|net|http|https|child_process|dgram|tls|worker_threads|fs\/promises)['"]/;
    const broken: string[] = [];
    for (const w of all.filter((x) => x.ring === 'packages')) {
      for (const file of sourceFiles(join(w.dir, 'src'))) {
        const text = readFileSync(file, 'utf8');
        if (impure.test(text)) broken.push(`${relative(root, file)} imports an I/O module`);
        if (/\bDate\.now\(\)|\bnew Date\(\)|Math\.random\(\)|randomBytes\(|getRandomValues\(/.test(text)) {
          broken.push(`${relative(root, file)} reads the clock or randomness directly`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});

function safeFiles(dir: string): string[] {
  try {
    return sourceFiles(dir);
  } catch {
    return [];
  }
}
