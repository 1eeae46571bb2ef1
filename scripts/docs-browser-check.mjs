// Manual check (not run by CI: it needs a browser): /docs "Try it" with the dev
// issuer's sign-in, in headless Chromium, with every origin but the server's blocked.
//
//   apt-get install chromium; (cd /tmp/pw && npm install playwright-core@1)
//   WAYPOINT_ADDR=127.0.0.1:18123 waypoint serve --dev &
//   NODE_PATH=/tmp/pw/node_modules node scripts/docs-browser-check.mjs http://127.0.0.1:18123
//
// Signs in as alice through /docs/login, checks the token is shown and handed to
// "Try it", refreshes it, sends GET /v1/me from "Try it" and expects her; fails on
// any request to another origin, any console error or CSP report. Exits non-zero on failure.
import { createRequire } from 'node:module';
const require = createRequire(process.env.NODE_PATH ? process.env.NODE_PATH + '/' : import.meta.url);
const { chromium } = require('playwright-core');

const base = process.argv[2] || 'http://127.0.0.1:18123';
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
const failures = [];
const check = (ok, what) => { console.log((ok ? 'ok   ' : 'FAIL ') + what); if (!ok) failures.push(what); };
try {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const offsite = [], problems = [];
  await ctx.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(base + '/') || u.startsWith('data:')) return route.continue();
    offsite.push(u);
    return route.abort();
  });
  page.on('console', (m) => { if (m.type() === 'error' || /Refused|Content Security Policy/i.test(m.text())) problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(e.message));

  await page.goto(base + '/docs');
  await page.waitForSelector('text=Waypoint API', { timeout: 30000 });
  await page.click('a[href="/docs/login"]');
  await page.waitForURL(base + '/docs/login');
  await page.click('#start');
  await page.waitForURL(/\/dev\/oidc\/authorize/);
  await page.click('button[name="persona"][value="alice"]');
  await page.waitForURL(base + '/docs/login');
  await page.waitForSelector('#result:not([hidden])', { timeout: 15000 });
  const token = await page.inputValue('#token');
  check(token.startsWith('Bearer ey'), 'the sign-in shows a bearer token');
  check((await page.textContent('#who')).startsWith('Alice Johnson'), 'signed in as alice');
  check(page.url() === base + '/docs/login', 'the code left the address bar');
  const stored = await page.evaluate(() => localStorage.getItem('TryIt_securitySchemeValues'));
  check(!!stored && stored.includes(token), 'the token is stored for "Try it"');

  await page.click('#refresh');
  await page.waitForFunction((old) => document.getElementById('token').value !== old, token, { timeout: 15000 });
  const fresh = await page.inputValue('#token');
  check(fresh.startsWith('Bearer ey') && fresh !== token, 'a fresh token through the refresh_token grant');

  await page.goto(base + '/docs#/operations/getMe');
  await page.waitForSelector('text=Send API Request', { timeout: 30000 });
  const field = await page.evaluate(() => Array.from(document.querySelectorAll('input')).map((i) => i.value).find((v) => v.startsWith('Bearer ')) || '');
  check(field === fresh, '"Try it" has the token in its Token field');
  await page.click('text=Send API Request');
  await page.waitForSelector('text=Alice Johnson', { timeout: 15000 });
  check(true, '"Try it" GET /v1/me answers with alice');
  check(offsite.length === 0, 'no request to another origin ' + JSON.stringify(offsite));
  check(problems.length === 0, 'no console error or CSP report ' + JSON.stringify(problems));
} catch (e) {
  check(false, String(e));
} finally {
  await browser.close();
}
process.exit(failures.length ? 1 : 0);
