import { describe, expect, it } from 'vitest';
import {
  describeDenial,
  endpointAllowed,
  parseEndpoint,
  parseEndpoints,
  proxyPortBesides,
  relayPorts,
} from '../../src/core/sandbox-network.js';
import { modelEndpointsOf } from '../../src/core/model-endpoints.js';

describe('modelEndpointsOf', () => {
  it("takes each CLI's base URL from the variable its adapter reads", () => {
    expect(modelEndpointsOf('claude', { ANTHROPIC_BASE_URL: 'http://127.0.0.1:4010' })).toEqual(['http://127.0.0.1:4010']);
    expect(modelEndpointsOf('codex', { ORCH_CODEX_BASE_URL: 'http://127.0.0.1:4011/v1' })).toEqual(['http://127.0.0.1:4011/v1']);
    expect(modelEndpointsOf('opencode', { ORCH_OPENCODE_BASE_URL: 'http://127.0.0.1:4012/v1' }, 'anthropic/x')).toEqual(['http://127.0.0.1:4012/v1']);
    expect(modelEndpointsOf('gemini', { GOOGLE_GEMINI_BASE_URL: 'http://127.0.0.1:4013' })).toEqual(['http://127.0.0.1:4013']);
  });

  it("falls back to each vendor's API (and its sign-in), OpenCode's following the model's provider", () => {
    expect(modelEndpointsOf('claude', {})).toEqual(['https://api.anthropic.com']);
    expect(modelEndpointsOf('codex', {})).toEqual(['https://api.openai.com', 'https://chatgpt.com']);
    expect(modelEndpointsOf('gemini', {})[0]).toBe('https://generativelanguage.googleapis.com');
    expect(modelEndpointsOf('opencode', {}, 'openai/gpt-5')).toEqual(['https://api.openai.com']);
    expect(modelEndpointsOf('opencode', {}, null)).toEqual(['https://api.anthropic.com']);
    expect(modelEndpointsOf('opencode', {}, 'someone/else')).toEqual([]);
    expect(modelEndpointsOf('command', {})).toEqual([]);
  });

  it('adds any other …BASE_URL holding an http(s) URL, once, and ignores what is not a URL', () => {
    const env = { OPENAI_BASE_URL: 'https://gateway.example.com/v1', ANTHROPIC_BASE_URL: 'https://gateway.example.com/v1', MY_BASE_URL: 'not a url' };
    expect(modelEndpointsOf('claude', env)).toEqual(['https://gateway.example.com/v1']);
    expect(modelEndpointsOf('command', { ORCH_MODEL_BASE_URL: 'http://localhost:9000' })).toEqual(['http://localhost:9000']);
  });
});

describe('endpoints', () => {
  it('reads URLs and host:port, with the default port of the scheme', () => {
    expect(parseEndpoint('https://API.anthropic.com')).toEqual({ host: 'api.anthropic.com', port: 443, loopback: false });
    expect(parseEndpoint('http://127.0.0.1:8080/v1?x=1')).toEqual({ host: '127.0.0.1', port: 8080, loopback: true });
    expect(parseEndpoint('http://user:pw@localhost/')).toEqual({ host: 'localhost', port: 80, loopback: true });
    expect(parseEndpoint('http://[::1]:9/')).toEqual({ host: '::1', port: 9, loopback: true });
    expect(parseEndpoint('example.com:8443')).toEqual({ host: 'example.com', port: 8443, loopback: false });
    expect(parseEndpoint('example.com')).toBeNull();
    expect(parseEndpoint('ftp://example.com')).toBeNull();
    expect(parseEndpoint('http://example.com:70000')).toBeNull();
  });

  it('keeps one endpoint per host:port and names what it cannot read', () => {
    expect(parseEndpoints(['http://127.0.0.1:1/a', 'http://127.0.0.1:1/b', 'nope'])).toEqual({ endpoints: [{ host: '127.0.0.1', port: 1, loopback: true }], invalid: ['nope'] });
  });

  it('allows exactly the endpoints host:port', () => {
    const { endpoints } = parseEndpoints(['https://api.anthropic.com', 'http://[::1]:9']);
    expect(endpointAllowed(endpoints, 'API.ANTHROPIC.COM', 443)).toBe(true);
    expect(endpointAllowed(endpoints, '[::1]', 9)).toBe(true);
    expect(endpointAllowed(endpoints, 'api.anthropic.com', 80)).toBe(false);
    expect(endpointAllowed(endpoints, 'evil.example.com', 443)).toBe(false);
  });

  it('relays loopback ports once and keeps the proxy port off them', () => {
    const { endpoints } = parseEndpoints(['http://127.0.0.1:3128', 'http://localhost:3128/v1', 'https://api.openai.com']);
    expect(relayPorts(endpoints)).toEqual([3128]);
    expect(proxyPortBesides(relayPorts(endpoints))).toBe(3129);
    expect(() => proxyPortBesides([1], [1])).toThrow(/no free proxy port/);
  });

  it('names a denial', () => {
    expect(describeDenial({ kind: 'connection_denied', host: '::1', port: 22, via: 'connect' })).toBe('sandbox denied a connection to [::1]:22');
  });
});
