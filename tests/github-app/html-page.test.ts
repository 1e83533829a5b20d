import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { escapeHtml, sendPage } from '../../src/github-app/html-page.ts';

describe('setup pages', () => {
  it('escapes every character that could open markup or an attribute', () => {
    expect(escapeHtml(`<script>alert("x")</script> & 'y'`)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;');
  });

  it('serves text only: escaped, never cached, no scripts, no referrer', async () => {
    const server = createServer((_req, res) => sendPage(res, 403, 'Refused <b>', ['reason: <img src=x onerror=alert(1)>']));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const body = await response.text();
      expect(response.status).toBe(403);
      expect(body).not.toContain('<img');
      expect(body).not.toContain('<b>');
      expect(body).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
