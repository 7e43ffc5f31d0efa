import { mkdirSync, mkdtempSync, writeFileSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePlan } from '../core/plan/compile.js';
import { MemoryStore } from './memory-store.js';
import { FileTaskCache } from './task-cache.js';

const executors = new Map([['claude', { requires: 'prompt' as const }]]);
const task = (prompt: string) =>
  compilePlan(
    { tasks: [{ id: 'review', executor: 'claude', prompt, inputs: ['*.ts'], writes: ['REVIEW.md'] }] },
    { executors },
  ).graph.tasks[0]!;
const agent = { name: 'claude', version: '2.1.197' };

describe('FileTaskCache', () => {
  it('keys on the prompt and input contents, restores written files, and explains misses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-cache-'));
    const work = mkdtempSync(join(tmpdir(), 'weft-work-'));
    writeFileSync(join(work, 'a.ts'), 'x');
    writeFileSync(join(work, 'keep.md'), 'untouched');
    const cache = new FileTaskCache(new MemoryStore(), join(dir, 'blobs'), 'plan');
    const first = await cache.probe(task('Review the code'), agent, {}, work);
    expect(first.hit).toBeUndefined();
    expect(first.explain).toBe('miss: first run');
    writeFileSync(join(work, 'REVIEW.md'), 'looks good');
    await cache.save(first, task('Review the code'), { text: 'done', usage: { costUsd: 0.2 } }, work);

    const again = await cache.probe(task('Review the code'), agent, {}, work);
    expect(again.key).toBe(first.key);
    expect(again.hit).toEqual({ text: 'done', usage: { costUsd: 0.2 } });
    rmSync(join(work, 'REVIEW.md'));
    await cache.restore(again, task('Review the code'), work);
    expect(readFileSync(join(work, 'REVIEW.md'), 'utf8')).toBe('looks good');

    const reworded = await cache.probe(task('Review the code for security'), agent, {}, work);
    expect(reworded.hit).toBeUndefined();
    expect(reworded.explain).toBe('miss: prompt changed');
    const newVersion = await cache.probe(task('Review the code'), { name: 'claude', version: '2.2.0' }, {}, work);
    expect(newVersion.explain).toBe('miss: executor changed');
  });

  it('counts inputs outside the task folder, under node_modules, or by absolute path: each change is a miss', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'weft-outside-'));
    const work = join(outside, 'project');
    mkdirSync(join(work, 'node_modules', 'lib'), { recursive: true });
    mkdirSync(join(outside, 'docs'));
    const files = {
      common: join(outside, 'common.txt'),
      module: join(work, 'node_modules', 'lib', 'version'),
      absolute: join(outside, 'abs.txt'),
      doc: join(outside, 'docs', 'a.md'),
      local: join(work, 'a.ts'),
    };
    for (const path of Object.values(files)) writeFileSync(path, 'v1');
    const inputs = ['../common.txt', 'node_modules/lib/version', files.absolute, '../docs/*.md', '*.ts'];
    const withInputs = compilePlan({ tasks: [{ id: 't', executor: 'claude', prompt: 'x', inputs }] }, { executors })
      .graph.tasks[0]!;
    const shell = { name: 'shell', version: '1' };
    const cache = new FileTaskCache(new MemoryStore(), join(outside, 'blobs'), 'plan');
    const first = await cache.probe(withInputs, shell, {}, work);
    expect(
      Object.keys(first.parts)
        .filter((k) => k.startsWith('input:'))
        .sort(),
    ).toEqual([
      'input:../abs.txt',
      'input:../common.txt',
      'input:../docs/a.md',
      'input:a.ts',
      'input:node_modules/lib/version',
    ]);
    await cache.save(first, withInputs, { exitCode: 0 }, work);
    expect((await cache.probe(withInputs, shell, {}, work)).hit).toBeDefined();
    for (const [name, path] of Object.entries(files)) {
      writeFileSync(path, `v2 ${name}`);
      const probe = await cache.probe(withInputs, shell, {}, work);
      expect(probe.hit, name).toBeUndefined();
      await cache.save(probe, withInputs, { exitCode: 0 }, work);
    }
  });

  it('follows links inside an input folder: a change behind a linked file or folder is a miss; loops end', async () => {
    const root = mkdtempSync(join(tmpdir(), 'weft-links-'));
    const work = join(root, 'project');
    mkdirSync(join(work, 'src', 'nested'), { recursive: true });
    mkdirSync(join(root, 'shared'));
    writeFileSync(join(root, 'shared', 'config.json'), 'v1');
    writeFileSync(join(work, 'src', 'nested', 'deep.ts'), 'v1');
    symlinkSync(join(root, 'shared', 'config.json'), join(work, 'src', 'config.json'));
    symlinkSync(join(work, 'src', 'nested'), join(work, 'src', 'alias'));
    symlinkSync('..', join(work, 'src', 'nested', 'up'));
    symlinkSync('/', join(work, 'src', 'rootfs'));
    symlinkSync(join(root, 'gone'), join(work, 'src', 'broken'));
    const linked = compilePlan(
      { tasks: [{ id: 't', executor: 'claude', prompt: 'x', inputs: ['src'] }] },
      { executors },
    ).graph.tasks[0]!;
    const shell = { name: 'shell', version: '1' };
    const cache = new FileTaskCache(new MemoryStore(), join(root, 'blobs'), 'plan');
    const first = await cache.probe(linked, shell, {}, work);
    expect(
      Object.keys(first.parts)
        .filter((k) => k.startsWith('input:'))
        .sort(),
    ).toEqual(['input:src/alias/deep.ts', 'input:src/config.json', 'input:src/nested/deep.ts']);
    await cache.save(first, linked, { exitCode: 0 }, work);
    expect((await cache.probe(linked, shell, {}, work)).hit).toBeDefined();
    writeFileSync(join(root, 'shared', 'config.json'), 'v2');
    const changed = await cache.probe(linked, shell, {}, work);
    expect(changed.hit).toBeUndefined();
    expect(changed.explain).toContain('src/config.json');
  });

  it('reads a plain folder in inputs and writes as everything under it (not its node_modules)', async () => {
    const work = mkdtempSync(join(tmpdir(), 'weft-folder-'));
    mkdirSync(join(work, 'src', 'lib'), { recursive: true });
    mkdirSync(join(work, 'src', 'node_modules'));
    writeFileSync(join(work, 'src', 'lib', 'a.ts'), 'v1');
    writeFileSync(join(work, 'src', 'node_modules', 'dep.js'), 'v1');
    const build = compilePlan(
      { tasks: [{ id: 'build', run: 'make', inputs: ['src'], writes: ['dist'] }] },
      { executors: new Map([['shell', { requires: 'run' as const }]]) },
    ).graph.tasks[0]!;
    const shell = { name: 'shell', version: '1' };
    const cache = new FileTaskCache(new MemoryStore(), join(work, '.weft', 'blobs'), 'plan');
    const first = await cache.probe(build, shell, {}, work);
    expect(Object.keys(first.parts).filter((k) => k.startsWith('input:'))).toEqual(['input:src/lib/a.ts']);
    mkdirSync(join(work, 'dist', 'js'), { recursive: true });
    writeFileSync(join(work, 'dist', 'js', 'app.js'), 'built');
    await cache.save(first, build, { exitCode: 0 }, work);
    rmSync(join(work, 'dist'), { recursive: true });
    const again = await cache.probe(build, shell, {}, work);
    expect(again.hit).toBeDefined();
    await cache.restore(again, build, work);
    expect(readFileSync(join(work, 'dist', 'js', 'app.js'), 'utf8')).toBe('built');
    writeFileSync(join(work, 'src', 'lib', 'a.ts'), 'v2');
    const changed = await cache.probe(build, shell, {}, work);
    expect(changed.hit).toBeUndefined();
    expect(changed.explain).toBe('miss: input src/lib/a.ts changed');
  });
});
