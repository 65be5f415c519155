// SPDX-License-Identifier: MIT
// The application backend's part, reduced to one route: GET /token mints a short-lived HS256
// JWT for the signed-in user (here always "demo-user"), signed with the hub's auth.jwt_secret.
// In a real app this is your API, behind your session cookie.
import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** An HS256 JWT: `sub`, `exp` = now + ttlSeconds, and the topics it may subscribe to. */
export function mintToken(secret: string, sub: string, ttlSeconds: number, subscribe: string[]): string {
  const head = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub, exp: Math.floor(Date.now() / 1000) + ttlSeconds, subscribe })}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

/** Connect/Vite middleware answering GET /token; anything else goes on to `next`. */
export function tokenMiddleware(secret: string, ttlSeconds: number) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    if (req.url?.split('?')[0] !== '/token') return next();
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' });
    res.end(mintToken(secret, 'demo-user', ttlSeconds, ['orders', 'metrics']));
  };
}
