import { describe, expect, it } from 'vitest';
import { checkJson, jsonSchemaProblem } from './json-schema.js';

describe('checkJson: `required` means required wherever the name is listed', () => {
  it('a required name that `properties` does not list is still required, at any depth', () => {
    expect(checkJson({ type: 'object', required: ['b'] }, {})).toMatchObject({ ok: false, path: 'b' });
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
    expect(checkJson(inAnyOf, { c: 1 }).ok).toBe(false);
    expect(checkJson(inAnyOf, { b: 1 }).ok).toBe(true);
  });

  it('a name added for `required` takes the `additionalProperties` schema when there is one', () => {
    const typed = { type: 'object', required: ['n'], additionalProperties: { type: 'number' } };
    expect(checkJson(typed, { n: 'x' })).toMatchObject({ ok: false, path: 'n' });
    expect(checkJson(typed, { n: 2 }).ok).toBe(true);
  });

  it('values (`default`, `const`, `enum`) are data, never rewritten as schemas', () => {
    const schema = { type: 'object', properties: { k: { default: { required: ['a'] } } } };
    expect(checkJson(schema, {})).toEqual({ ok: true, value: { k: { required: ['a'] } } });
  });
});

describe('checkJson: array length limits hold without `items`', () => {
  it.each([
    [{ type: 'array', minItems: 1 }, [], false],
    [{ type: 'array', minItems: 1 }, ['x'], true],
    [{ type: 'array', maxItems: 2 }, [1, 2, 3], false],
    [{ type: ['array', 'null'], minItems: 1 }, [], false],
    [{ type: ['array', 'null'], minItems: 1 }, null, true],
    [{ type: 'object', properties: { endpoints: { type: 'array', minItems: 1 } } }, { endpoints: [] }, false],
  ])('%j on %j: %s', (schema, value, ok) => {
    expect(checkJson(schema, value).ok).toBe(ok);
  });
});

describe('jsonSchemaProblem', () => {
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
