import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { parseYamlFast } from './fast-yaml.js';

const yamlFiles = ['examples', 'templates'].flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(dir, f)),
);

describe('parseYamlFast', () => {
  it.each(yamlFiles)('reads %s exactly as the yaml package does', (file) => {
    const text = readFileSync(file, 'utf8');
    const fast = parseYamlFast(text, 100);
    expect(fast).toBeDefined();
    expect(fast).toEqual(parse(text));
  });

  // Plain scalars of YAML 1.2's core schema, and the forms other schemas read differently.
  const scalars = [
    ...['1', '-12', '+12', '012', '0o17', '0x1F', '0b11', '1_000', '1e3', '-.5', '.5', '1.', '.inf', '-.Inf', '.nan'],
    ...['true', 'True', 'TRUE', 'false', 'yes', 'no', 'on', 'off', 'y', '~', 'null', 'Null', 'NULL', ''],
    ...['2026-01-01', '12:30', '"12"', "'true'", '"null"', '!!str 12', '<<'],
  ];
  it.each(scalars)('reads the scalar %j as the yaml package does', (scalar) => {
    const text = `v: ${scalar}\nlist: [${scalar === '' ? '~' : scalar}]\n`;
    const expected = parse(text) as unknown;
    expect(parseYamlFast(text, 100)).toEqual(expected);
  });

  // The characters the core schema's patterns look at, so that random scalars hit every type and
  // many near-misses (`+.inf`, `0x`, `nulL`, `1e`): the fast path resolves each as `yaml` does.
  const scalarChars = [...'0123456789+-.eExXoOb_~', ...'trueTRUEfalsFALSnNinfINFaA'];
  it('resolves random plain scalars as the yaml package does', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...scalarChars), maxLength: 8 }), (scalar) => {
        const text = `v: ${scalar}\nlist: [${scalar}]\n`;
        const doc = parseDocument(text);
        const fast = parseYamlFast(text, 100);
        if (doc.errors.length > 0 || fast === undefined) return; // not a plain scalar both read
        expect(fast).toEqual(doc.toJS());
      }),
      { numRuns: 3000 },
    );
  });

  it('drops a comment as the yaml package does', () => {
    expect(parseYamlFast('v: a #b\n', 100)).toEqual({ v: 'a' });
  });

  it('leaves to the yaml path what it must report or bound', () => {
    expect(parseYamlFast('a: 1\na: 2\n', 100)).toBeUndefined(); // a repeated key
    expect(parseYamlFast('x: &a [1, 2]\ny: *a\n', 100)).toBeUndefined(); // an alias
    expect(parseYamlFast('x: [1, 2]\ny: *a\n', 100)).toBeUndefined(); // an alias without its anchor
    expect(parseYamlFast('run: "a && b"\nx: a&b\n', 100)).toEqual({ run: 'a && b', x: 'a&b' }); // & but no alias
    expect(parseYamlFast('a: [1, 2\n', 100)).toBeUndefined(); // a syntax error
    expect(parseYamlFast('a: !custom 1\n', 100)).toBeUndefined(); // a tag it does not know
    const deep = `${'['.repeat(101)}${']'.repeat(101)}`;
    expect(parseYamlFast(deep, 100)).toBeUndefined();
    expect(parseYamlFast(`${'['.repeat(99)}${']'.repeat(99)}`, 100)).toEqual(
      parse(`${'['.repeat(99)}${']'.repeat(99)}`),
    );
  });
});
