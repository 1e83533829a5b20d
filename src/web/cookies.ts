import type { IncomingMessage } from 'node:http';

/** The dashboard's cookie attributes: HttpOnly, SameSite=Lax, Secure (and the __Host- prefix) unless served on localhost. */
export interface CookieJar {
  readonly sessionName: string;
  readonly loginName: string;
  set(name: string, value: string, maxAgeSeconds: number): string;
  clear(name: string): string;
}

export function cookieJar(publicUrl: URL): CookieJar {
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(publicUrl.hostname);
  const secure = !local;
  const prefix = secure ? '__Host-' : '';
  const attrs = `Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  return {
    sessionName: `${prefix}recap_session`,
    loginName: `${prefix}recap_login`,
    set: (name, value, maxAge) => `${name}=${value}; Max-Age=${Math.floor(maxAge)}; ${attrs}`,
    clear: (name) => `${name}=; Max-Age=0; ${attrs}`,
  };
}

/** One cookie's value from the request (cookie values here are base64url and dots only). */
export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9._-]{1,2048}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}
