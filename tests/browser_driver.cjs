// A headless Chromium driven over stdin/stdout for tests/browser.py: one JSON request a line
// ({"op": ..., ...}), one JSON answer a line ({"ok": true, "value": ...} or {"ok": false,
// "error": ...}). Playwright-core drives Debian's chromium (no browser download).
'use strict';
const path = require('path');
const readline = require('readline');
const [, , pwDir, exe, userDir] = process.argv;
const { chromium } = require(path.join(pwDir, 'node_modules', 'playwright-core'));

async function main() {
  const ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: exe, headless: true, viewport: { width: 1280, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const ops = {
    goto: async (r) => {
      const resp = await page.goto(r.url, { timeout: r.timeout || 30000 });
      return { status: resp ? resp.status() : 0, url: page.url() }; },
    // Polled from here (page.evaluate is not subject to the page's CSP, which forbids the
    // string evaluation waitForFunction uses).
    wait: async (r) => {
      const end = Date.now() + (r.timeout || 10000);
      for (;;) {
        if (await page.evaluate(r.expr)) return true;
        if (Date.now() > end) throw new Error('not true within the timeout: ' + r.expr);
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    eval: async (r) => page.evaluate(r.expr),
    click: async (r) => { await page.click(r.selector, { timeout: r.timeout || 10000 }); return true; },
    viewport: async (r) => { await page.setViewportSize({ width: r.width, height: r.height });
      return true; },
    screenshot: async (r) => { await page.screenshot({ path: r.path, fullPage: !!r.full });
      return r.path; },
    cookies: async () => ctx.cookies(),
    clear_cookies: async () => { await ctx.clearCookies(); return true; },
  };
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    let answer;
    try {
      const r = JSON.parse(line);
      if (r.op === 'close') break;
      answer = { ok: true, value: await ops[r.op](r) };
    } catch (e) {
      answer = { ok: false, error: String(e && e.message || e) };
    }
    process.stdout.write(JSON.stringify(answer) + '\n');
  }
  await ctx.close();
}
main().catch((e) => { process.stderr.write(String(e && e.stack || e) + '\n'); process.exit(1); });
