// Clears a call from the console's Live page in Debian's headless
// Chromium, as an admin does with a stuck call: the call's row, its Clear
// button armed by a first press ("Confirm clear"), ended by the second.
// clear_test.go starts tandem and the SIP peers, places the call and
// checks what the SIP parties, the router and the reports saw; this script
// prints "STEP name" as it goes and "SCREENSHOT path" for each picture.
import { chromium } from 'playwright-core';

const env = process.env;
const T = 20000;
const step = s => console.log('STEP ' + s);
const shot = async (page, name) => {
  const p = `${env.ARTIFACTS}/${name}.png`;
  await page.screenshot({ path: p, fullPage: true });
  console.log('SCREENSHOT ' + p);
};

const browser = await chromium.launch({
  executablePath: env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
});
try {
  const ctx = await browser.newContext({ baseURL: env.BASE, viewport: { width: 1400, height: 700 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(T);
  const errors = [];
  page.on('pageerror', e => { errors.push(e.message); console.log('PAGEERROR ' + e.message); });
  await page.goto('/login');
  await page.fill('#user', env.USER_NAME);
  await page.fill('#password', env.USER_PASS);
  await page.click('#signin');
  await page.waitForURL(env.LANDING);
  await page.goto('/live');
  const row = `#live-calls tr[data-call="${env.CALL}"]`;
  await page.waitForSelector(`${row}[data-where="agent"]`);
  await page.waitForSelector(`${row} button[data-clear="${env.CALL}"]:text-is("Clear")`);
  await shot(page, 'clear-01-live-call-with-agent');
  step('call-shown');

  // The first press only arms the button; the call is still up.
  await page.click(`${row} button[data-clear="${env.CALL}"]`);
  await page.waitForSelector(`${row} button.danger[data-clear="${env.CALL}"]:text-is("Confirm clear")`);
  await shot(page, 'clear-02-armed');
  step('armed');

  await page.click(`${row} button[data-clear="${env.CALL}"]:text-is("Confirm clear")`);
  await page.waitForSelector(`#toast :text("cleared (${env.ROLE} ${env.USER_NAME})")`);
  await page.waitForSelector(row, { state: 'detached' });
  await shot(page, 'clear-03-cleared');
  if (errors.length) throw new Error('page errors: ' + errors.join('; '));
  step('cleared');
} finally {
  await browser.close();
}
step('done');
