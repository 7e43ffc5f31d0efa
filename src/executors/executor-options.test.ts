/** Each executor checks its numeric options when it is made: the field, what was expected, what came. */
import { describe, expect, it } from 'vitest';
import {
  AnthropicExecutor,
  ClaudeExecutor,
  CodexExecutor,
  GeminiExecutor,
  OpenAiExecutor,
  ShellExecutor,
} from './index.js';

const usage = (message: string) => expect.objectContaining({ name: 'WeftError', code: 'WEFT_USAGE', message });

describe('executor options are checked on entry', () => {
  it.each([
    [
      'ShellExecutor killGraceMs',
      () => new ShellExecutor({ killGraceMs: -1 }),
      'ShellExecutor: expected `killGraceMs` to be a non-negative integer, got `-1`',
    ],
    [
      'ShellExecutor tailBytes',
      () => new ShellExecutor({ tailBytes: 1.5 }),
      'ShellExecutor: expected `tailBytes` to be a non-negative integer, got `1.5`',
    ],
    [
      'AnthropicExecutor maxTokens',
      () => new AnthropicExecutor({ maxTokens: 0 }),
      'AnthropicExecutor: expected `maxTokens` to be a positive integer, got `0`',
    ],
    [
      'OpenAiExecutor maxTokens',
      () => new OpenAiExecutor({ maxTokens: Number.NaN }),
      'OpenAiExecutor: expected `maxTokens` to be a positive integer, got `NaN`',
    ],
    [
      'ClaudeExecutor maxRetries',
      () => new ClaudeExecutor({ maxRetries: -1 }),
      'claude executor: expected `maxRetries` to be a non-negative integer, got `-1`',
    ],
    [
      'CodexExecutor killGraceMs',
      () => new CodexExecutor({ killGraceMs: 2.5 }),
      'codex executor: expected `killGraceMs` to be a non-negative integer, got `2.5`',
    ],
    [
      'GeminiExecutor maxRetries',
      () => new GeminiExecutor({ maxRetries: 0.5 }),
      'gemini executor: expected `maxRetries` to be a non-negative integer, got `0.5`',
    ],
  ])('%s', (_name, make, message) => {
    expect(make).toThrow(usage(message));
  });

  it('the defaults, and 0 where 0 is allowed, are accepted', () => {
    expect(() => new ShellExecutor()).not.toThrow();
    expect(() => new ShellExecutor({ killGraceMs: 0, tailBytes: 0 })).not.toThrow();
    expect(() => new AnthropicExecutor({ maxTokens: 1 })).not.toThrow();
    expect(() => new ClaudeExecutor({ maxRetries: 0, killGraceMs: 0 })).not.toThrow();
  });
});
