import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, githubWebUrl, loadConfig } from '../../src/config/env.ts';
import { thrownBy } from '../helpers/thrown.ts';

const PEM = '-----BEGIN RSA PRIVATE KEY-----\\nMIIB\\n-----END RSA PRIVATE KEY-----';
const INSTALL = { GITHUB_APP_SLUG: 'recap-bot', GITHUB_APP_CLIENT_ID: 'Iv23liAbc', GITHUB_APP_CLIENT_SECRET: 'client-secret-value-123' };

const errorFor = (env: Record<string, string>): ConfigError => thrownBy(() => loadConfig(env), (e) => e instanceof ConfigError);

describe('configuration of the GitHub App install flow', () => {
  it('is off unless set, and reads slug, client id, client secret (a Secret) and PUBLIC_URL', () => {
    const off = loadConfig({});
    expect(off.github.appInstall).toBeUndefined();
    expect(off.http.publicUrl).toBeUndefined();
    expect(off.github.webUrl).toBe('https://github.com');

    const on = loadConfig({ GITHUB_APP_ID: '42', GITHUB_APP_PRIVATE_KEY: PEM, ...INSTALL, PUBLIC_URL: 'https://recap.example.com/' });
    expect(on.github.appInstall?.slug).toBe('recap-bot');
    expect(on.github.appInstall?.clientId).toBe('Iv23liAbc');
    expect(on.github.appInstall?.clientSecret.reveal()).toBe('client-secret-value-123');
    expect(on.http.publicUrl?.href).toBe('https://recap.example.com/');
    for (const text of [JSON.stringify(on), inspect(on, { depth: 6 })]) expect(text).not.toContain('client-secret-value-123');
  });

  it('names the missing variable when the flow is set up halfway', () => {
    expect(errorFor({ GITHUB_APP_ID: '42', GITHUB_APP_PRIVATE_KEY: PEM, GITHUB_APP_SLUG: 'recap-bot' }).variable).toBe('GITHUB_APP_CLIENT_ID');
    expect(errorFor({ GITHUB_APP_ID: '42', GITHUB_APP_PRIVATE_KEY: PEM, GITHUB_APP_SLUG: 'recap-bot', GITHUB_APP_CLIENT_ID: 'Iv1' }).variable).toBe('GITHUB_APP_CLIENT_SECRET');
    expect(errorFor({ ...INSTALL }).variable).toBe('GITHUB_APP_ID');
    expect(errorFor({ GITHUB_APP_ID: '42', GITHUB_APP_PRIVATE_KEY: PEM, ...INSTALL, GITHUB_APP_SLUG: 'has spaces' }).variable).toBe('GITHUB_APP_SLUG');
    const secretError = errorFor({ GITHUB_APP_ID: '42', GITHUB_APP_PRIVATE_KEY: PEM, GITHUB_APP_SLUG: 'recap-bot', GITHUB_APP_CLIENT_SECRET: 'client-secret-value-123' });
    expect(secretError.variable).toBe('GITHUB_APP_CLIENT_ID');
    expect(secretError.message).not.toContain('client-secret-value-123');
    expect(errorFor({ PUBLIC_URL: 'recap.example.com' }).variable).toBe('PUBLIC_URL');
  });

  it('derives GitHub\'s web host from the API root', () => {
    expect(githubWebUrl('https://api.github.com')).toBe('https://github.com');
    expect(githubWebUrl('https://api.github.com/')).toBe('https://github.com');
    expect(githubWebUrl('https://ghe.example.com/api/v3')).toBe('https://ghe.example.com');
    expect(githubWebUrl('http://127.0.0.1:9999')).toBe('http://127.0.0.1:9999');
    expect(loadConfig({ GITHUB_API_URL: 'https://ghe.example.com/api/v3/' }).github.webUrl).toBe('https://ghe.example.com');
  });
});
