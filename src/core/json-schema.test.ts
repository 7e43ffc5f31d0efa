import { describe, expect, it } from 'vitest';
import { checkJson, jsonPath, jsonSchemaProblem } from './json-schema.js';

describe('checkJson: a keyword holds without `type` (JSON Schema semantics)', () => {
  it.each([
    [{ required: ['a'] }, {}, false],
    [{ required: ['a'] }, { a: null }, true],
    [{ required: ['a'] }, 'not an object', true],
    [{ minItems: 1 }, [], false],
    [{ minItems: 1 }, ['x'], true],
    [{ maxItems: 2 }, [1, 2, 3], false],
    [{ minimum: 5 }, 3, false],
    [{ minimum: 5 }, 5, true],
    [{ minimum: 5 }, 'x', true],
    [{ maxLength: 2 }, 'abc', false],
    [{ properties: { a: { type: 'string' } } }, { a: 1 }, false],
    [{ properties: { a: { type: 'string' } } }, { a: 'x' }, true],
    [{ type: 'object', properties: { endpoints: { type: 'array', minItems: 1 } } }, { endpoints: [] }, false],
    [{ type: ['array', 'null'], minItems: 1 }, [], false],
    [{ type: ['array', 'null'], minItems: 1 }, null, true],
  ])('%j on %j: %s', (schema, value, ok) => {
    expect(checkJson(schema, value).ok).toBe(ok);
  });

  it('a property named like a keyword is a property: `minItems` under `properties` is not a limit', () => {
    const schema = { type: 'object', properties: { minItems: { type: 'string' }, items: { type: 'number' } } };
    expect(checkJson(schema, {})).toEqual({ ok: true, value: {} });
    expect(checkJson(schema, { minItems: 'x', items: 2 })).toEqual({ ok: true, value: { minItems: 'x', items: 2 } });
    expect(checkJson(schema, { minItems: 1 })).toMatchObject({ ok: false, path: 'minItems' });
    expect(checkJson(schema, { items: [] })).toMatchObject({ ok: false, path: 'items' });
  });

  it('a property named `minItems` adds no property `items` where `additionalProperties: false` forbids it', () => {
    const closed = { type: 'object', properties: { minItems: { type: 'string' } }, additionalProperties: false };
    expect(checkJson(closed, { minItems: 'x' }).ok).toBe(true);
    expect(checkJson(closed, { minItems: 'x', items: 1 })).toEqual({
      ok: false,
      path: 'items',
      problem: 'is not allowed (additionalProperties: false)',
    });
  });

  it('values (`default`, `const`, `enum`) are data, never read as schemas; the value is returned as it came', () => {
    const schema = { type: 'object', properties: { k: { default: { required: ['a'] } } } };
    expect(jsonSchemaProblem({ default: { minimun: 1 } })).toBe(undefined);
    expect(checkJson(schema, {})).toEqual({ ok: true, value: {} });
    expect(checkJson({ const: { required: ['a'] } }, { required: ['a'] }).ok).toBe(true);
    expect(checkJson({ const: { required: ['a'] } }, {}).ok).toBe(false);
  });

  it('multipleOf holds for decimals (0.3 is a multiple of 0.01)', () => {
    expect(checkJson({ type: 'number', multipleOf: 0.01 }, 0.3).ok).toBe(true);
    expect(checkJson({ type: 'number', multipleOf: 0.01 }, 0.305).ok).toBe(false);
  });

  it('formats are checked', () => {
    expect(checkJson({ type: 'string', format: 'email' }, 'nope')).toEqual({
      ok: false,
      path: '(root)',
      problem: 'must match format "email"',
    });
    expect(checkJson({ type: 'string', format: 'date-time' }, '2024-05-01T10:00:00Z').ok).toBe(true);
  });
});

describe('checkJson: `required` means required wherever the name is listed', () => {
  it('a required name that `properties` does not list is still required, at any depth', () => {
    expect(checkJson({ type: 'object', required: ['b'] }, {})).toEqual({
      ok: false,
      path: 'b',
      problem: 'is required',
    });
    expect(checkJson({ type: 'object', required: ['b'] }, { b: null }).ok).toBe(true);
    const listedElsewhere = { type: 'object', required: ['b'], properties: { a: { type: 'number' } } };
    expect(checkJson(listedElsewhere, { a: 1 })).toMatchObject({ ok: false, path: 'b' });
    expect(checkJson(listedElsewhere, { a: 1, b: 'x' }).ok).toBe(true);
    const nested = { type: 'object', properties: { x: { type: 'object', required: ['y'] } } };
    expect(checkJson(nested, { x: {} })).toMatchObject({ ok: false, path: 'x.y' });
    const inItems = { type: 'array', items: { type: 'object', required: ['id'] } };
    expect(checkJson(inItems, [{ id: 1 }, {}])).toMatchObject({ ok: false, path: '[1].id' });
    const inAnyOf = {
      anyOf: [
        { type: 'object', required: ['a'] },
        { type: 'object', required: ['b'] },
      ],
    };
    expect(checkJson(inAnyOf, { c: 1 })).toEqual({
      ok: false,
      path: '(root)',
      problem: 'must match a schema in anyOf',
    });
    expect(checkJson(inAnyOf, { b: 1 }).ok).toBe(true);
  });

  it('a required name takes the `additionalProperties` schema when there is one', () => {
    const typed = { type: 'object', required: ['n'], additionalProperties: { type: 'number' } };
    expect(checkJson(typed, { n: 'x' })).toMatchObject({ ok: false, path: 'n' });
    expect(checkJson(typed, { n: 2 }).ok).toBe(true);
  });

  it('what `then` requires is named when `if` holds', () => {
    const schema = { type: 'object', if: { required: ['a'] }, then: { required: ['b'] } };
    expect(checkJson(schema, { a: 1 })).toEqual({ ok: false, path: 'b', problem: 'is required' });
    expect(checkJson(schema, { c: 1 }).ok).toBe(true);
  });
});

describe('checkJson: where and why', () => {
  const api = {
    type: 'object',
    required: ['endpoints'],
    properties: {
      endpoints: {
        type: 'array',
        items: {
          type: 'object',
          required: ['method', 'path'],
          properties: { method: { enum: ['GET', 'POST', 'DELETE'] }, path: { type: 'string' } },
          additionalProperties: false,
        },
      },
    },
  };

  it.each([
    [{}, 'endpoints', 'is required'],
    [{ endpoints: 'x' }, 'endpoints', 'must be array, not string'],
    [{ endpoints: [{ path: '/a' }] }, 'endpoints[0].method', 'is required'],
    [
      {
        endpoints: [
          { method: 'GET', path: '/a' },
          { method: 'PUT', path: '/b' },
        ],
      },
      'endpoints[1].method',
      'must be one of "GET", "POST" or "DELETE"',
    ],
    [{ endpoints: [{ method: 'GET', path: 1 }] }, 'endpoints[0].path', 'must be string, not number'],
    [
      { endpoints: [{ method: 'GET', path: '/', auth: true }] },
      'endpoints[0].auth',
      'is not allowed (additionalProperties: false)',
    ],
  ])('%j: %s %s', (value, path, problem) => {
    expect(checkJson(api, value)).toEqual({ ok: false, path, problem });
  });

  it('names the types an anyOf of types takes, and a const', () => {
    expect(checkJson({ anyOf: [{ type: 'string' }, { type: 'number' }] }, true)).toEqual({
      ok: false,
      path: '(root)',
      problem: 'must be string or number, not boolean',
    });
    expect(checkJson({ type: ['string', 'null'] }, 3)).toMatchObject({ problem: 'must be string or null, not number' });
    expect(checkJson({ const: 'x' }, 'y')).toMatchObject({ problem: 'must be "x"' });
    expect(checkJson({ type: 'integer', minimum: 5 }, 3)).toMatchObject({ problem: 'must be >= 5' });
  });

  it('an anyOf whose branches do more than name a type is not summed up as types', () => {
    const schema = { anyOf: [{ type: 'string' }, { type: 'object', properties: { a: { type: 'number' } } }] };
    expect(checkJson(schema, { a: 'x' })).toEqual({
      ok: false,
      path: '(root)',
      problem: 'must match a schema in anyOf',
    });
    expect(checkJson(schema, { a: 1 }).ok).toBe(true);
  });

  it('property names with "/" or "~" (escaped in JSON Pointer) and numeric names read as they are', () => {
    const schema = {
      type: 'object',
      properties: { 'a/b': { type: 'object', properties: { 'c~d': { type: 'string' } } }, '0': { type: 'string' } },
    };
    expect(checkJson(schema, { 'a/b': { 'c~d': 1 } })).toMatchObject({ path: 'a/b.c~d' });
    expect(checkJson(schema, { '0': 1 })).toMatchObject({ path: '0' });
  });

  it('jsonPath writes a path as a reader does', () => {
    expect(jsonPath([])).toBe('(root)');
    expect(jsonPath(['endpoints', 0, 'method'])).toBe('endpoints[0].method');
    expect(jsonPath([2, 'a'])).toBe('[2].a');
  });

  it('a schema weft cannot check is reported at (schema), not as a mismatch', () => {
    expect(checkJson({ type: 'strng' }, 'x')).toEqual({
      ok: false,
      path: '(schema)',
      problem: 'not a JSON Schema weft can check: type "strng" is not a JSON Schema type: did you mean "string"?',
    });
  });
});

describe('checkJson: drafts', () => {
  it('is JSON Schema 2020-12 by default: prefixItems is a tuple, $defs are referenced', () => {
    const tuple = { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] };
    expect(checkJson(tuple, ['a', 1]).ok).toBe(true);
    expect(checkJson(tuple, [1, 1])).toMatchObject({ ok: false, path: '[0]' });
    const withDefs = { $defs: { id: { type: 'string', minLength: 1 } }, properties: { id: { $ref: '#/$defs/id' } } };
    expect(checkJson(withDefs, { id: '' })).toMatchObject({ ok: false, path: 'id' });
  });

  it('is draft-07 when $schema says so: `items` may be a list', () => {
    const schema = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: [{ type: 'string' }] };
    expect(jsonSchemaProblem(schema)).toBe(undefined);
    expect(checkJson(schema, [1])).toMatchObject({ ok: false, path: '[0]' });
    expect(checkJson(schema, ['a', 1]).ok).toBe(true);
  });

  it("$schema may end in #; an $id may not take a meta-schema's (checking would lose it)", () => {
    expect(jsonSchemaProblem({ $schema: 'https://json-schema.org/draft/2020-12/schema#', type: 'string' })).toBe(
      undefined,
    );
    expect(jsonSchemaProblem({ $id: 'https://json-schema.org/draft/2020-12/schema', type: 'string' })).toBe(
      '$id "https://json-schema.org/draft/2020-12/schema" is the id of a JSON Schema meta-schema: give the schema an id of its own',
    );
    expect(checkJson({ type: 'object', required: ['a'] }, {})).toMatchObject({ ok: false, path: 'a' });
  });

  it('two schemas may share an $id (two plans, one contract file)', () => {
    const a = { $id: 'https://example.com/api.json', type: 'object', required: ['x'] };
    const b = { $id: 'https://example.com/api.json', type: 'object', required: ['y'] };
    expect(checkJson(a, { x: 1 }).ok).toBe(true);
    expect(checkJson(b, { x: 1 })).toMatchObject({ ok: false, path: 'y' });
  });
});

describe('jsonSchemaProblem', () => {
  it.each([
    [{ type: 'strin' }, 'type "strin" is not a JSON Schema type: did you mean "string"?'],
    [
      { type: 'list' },
      'type "list" is not a JSON Schema type: use string, number, integer, boolean, object, array, null',
    ],
    [
      { properties: { a: { type: ['string', 'nul'] } } },
      'properties.a.type "nul" is not a JSON Schema type: did you mean "null"?',
    ],
    [{ minimun: 3 }, 'unknown keyword "minimun": did you mean "minimum"?'],
    [
      { type: 'object', properties: { a: { type: 'integer', minimun: 3 } } },
      'properties.a has unknown keyword "minimun": did you mean "minimum"?',
    ],
    [{ properties: { a: { format: 'emial' } } }, 'properties.a has unknown format "emial": did you mean "email"?'],
    [{ properties: 3 }, 'properties must be a mapping of names to schemas'],
    [{ properties: { a: 3 } }, 'properties.a must be a schema (a mapping, or true/false)'],
    [{ required: 'a' }, 'required must be a list of property names'],
    [{ enum: 3 }, 'enum must be a list of values'],
    [
      { items: [{ type: 'string' }] },
      'items must be a schema: a list of schemas, one per position, is prefixItems in JSON Schema 2020-12',
    ],
    [{ minItems: -1 }, 'minItems must be >= 0'],
    [{ properties: { a: { maxLength: 'x' } } }, 'properties.a.maxLength must be integer, not string'],
    [{ anyOf: [] }, 'anyOf must NOT have fewer than 1 items'],
    [{ $ref: '#/$defs/missing' }, "can't resolve reference #/$defs/missing from id #"],
    [
      { $schema: 'http://json-schema.org/draft-04/schema#' },
      '$schema "http://json-schema.org/draft-04/schema#" is not a draft weft checks: leave it out (JSON Schema 2020-12), or use https://json-schema.org/draft/2020-12/schema or http://json-schema.org/draft-07/schema',
    ],
  ])('refuses schema %# with its reason', (schema, problem) => {
    expect(jsonSchemaProblem(schema)).toBe(problem);
  });

  it('accepts JSON Schema as it is written: annotations, formats, $defs, combinators, if/then', () => {
    expect(
      jsonSchemaProblem({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        $id: 'https://example.com/s.json',
        title: 'T',
        description: 'd',
        $comment: 'c',
        type: 'object',
        $defs: { n: { type: 'number', exclusiveMinimum: 0 } },
        properties: {
          at: { type: 'string', format: 'date-time', examples: ['2024-01-01T00:00:00Z'] },
          n: { $ref: '#/$defs/n', default: 1 },
          tags: { type: 'array', items: { type: 'string' }, uniqueItems: true, minItems: 1 },
          kind: { oneOf: [{ const: 'a' }, { const: 'b' }] },
        },
        required: ['at'],
        if: { required: ['n'] },
        then: { required: ['tags'] },
        additionalProperties: false,
        deprecated: false,
      }),
    ).toBe(undefined);
  });

  it('refuses a required name that `additionalProperties: false` forbids: no value could match', () => {
    expect(jsonSchemaProblem({ type: 'object', required: ['b'], additionalProperties: false })).toBe(
      'required names "b", which `additionalProperties: false` forbids: list it under properties',
    );
    expect(
      jsonSchemaProblem({
        type: 'object',
        properties: { x: { type: 'object', properties: { a: {} }, required: ['a', 'c'], additionalProperties: false } },
      }),
    ).toBe(
      'properties.x.required names "c", which `additionalProperties: false` forbids: list it under properties.x.properties',
    );
    expect(
      jsonSchemaProblem({
        type: 'array',
        items: { anyOf: [{ type: 'object', required: ['z'], additionalProperties: false }] },
      }),
    ).toBe(
      'items.anyOf[0].required names "z", which `additionalProperties: false` forbids: list it under items.anyOf[0].properties',
    );
    expect(
      jsonSchemaProblem({ type: 'object', required: ['b'], properties: { b: {} }, additionalProperties: false }),
    ).toBe(undefined);
    expect(
      jsonSchemaProblem({
        type: 'object',
        required: ['b'],
        patternProperties: { '^b$': {} },
        additionalProperties: false,
      }),
    ).toBe(undefined);
  });
});
