// Every file under ../shared/vectors must be read by at least one named conformance test. This
// meta-test keeps that true as vectors are added: it fails naming any file no test mentions.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { expect, it } from 'vitest';
import { describeVectors, REPO_ROOT, VECTORS_DIR } from './vectors.ts';

function walk(dir: string, skip: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    if (skip(ent.name)) continue;
    const p = join(dir, ent.name);
    if (ent.isDirectory()) out.push(...walk(p, skip));
    else out.push(p);
  }
  return out;
}

// Files of the tessera test log are read by walking their folder, so the folder's name is what
// the test mentions.
const FOLDERS_READ_WHOLE = ['tiles/tessera-testlog/log'];

describeVectors('vector coverage', () => {
  it('every vector file is named by some test', () => {
    const vectorFiles = walk(VECTORS_DIR, (n) => n === 'README.md')
      .map((p) => relative(VECTORS_DIR, p).split(sep).join('/'));
    const testSources = walk(REPO_ROOT, (n) => n === 'node_modules' || n.startsWith('.'))
      .filter((p) => p.endsWith('.test.ts') && !p.endsWith('vectors-coverage.test.ts'))
      .map((p) => readFileSync(p, 'utf8'))
      .join('\n');
    const unread = vectorFiles.filter((f) => {
      const folder = FOLDERS_READ_WHOLE.find((d) => f.startsWith(`${d}/`));
      return !testSources.includes(folder ?? f);
    });
    expect(vectorFiles.length).toBeGreaterThan(50);
    expect(unread).toEqual([]);
  });
});
