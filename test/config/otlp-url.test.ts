/**
 * The traces URL derived from a base, and the one rule for showing a URL.
 */
import { describe, expect, it } from 'vitest';
import { displayUrl, otlpTracesUrl } from '../../src/config/otlp-url.js';

describe('otlpTracesUrl', () => {
  it('appends /v1/traces to the path, before a query or fragment, never after it', () => {
    expect(otlpTracesUrl('http://h:4318')).toBe('http://h:4318/v1/traces');
    expect(otlpTracesUrl('http://h:4318/')).toBe('http://h:4318/v1/traces');
    expect(otlpTracesUrl('http://h:4318?token=x')).toBe('http://h:4318/v1/traces?token=x');
    expect(otlpTracesUrl('http://h:4318/base/?token=x#f')).toBe('http://h:4318/base/v1/traces?token=x#f');
    expect(otlpTracesUrl('http://h:4318/v1/traces?token=x')).toBe('http://h:4318/v1/traces?token=x');
  });
});

describe('displayUrl', () => {
  it('shows scheme, host and path: never user info, query or fragment; never throws', () => {
    expect(displayUrl('https://ann:pw@collector.example:4318/v1/traces?token=t#k')).toBe('https://collector.example:4318/v1/traces');
    expect(displayUrl(new URL('http://127.0.0.1:4318/v1/traces'))).toBe('http://127.0.0.1:4318/v1/traces');
    expect(displayUrl('sk-proj-not-a-url')).toBe('(invalid URL)');
  });
});
