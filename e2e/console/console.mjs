// Drives tandem's console in Debian's headless Chromium, as people use it:
// an admin, two agents and a supervisor, each in their own browser context.
// console_test.go starts tandem and the SIP peers and reads this script's
// stdout: "STEP name" marks progress (at "STEP need-call",
// "need-transfer-call", "need-consult-call" and "need-consult-cancel-call"
// it registers that call's
// SIPp phones and places the SIPp call; at "need-branch-call" it calls the
// dial-plan rule the SIP page added), "SCREENSHOT path" names an
// artifact. Any failed check throws, and the exit code says so.
import { chromium } from 'playwright-core';

const env = process.env;
const BASE = env.BASE;
const ART = env.ARTIFACTS;
const T = 20000; // the longest any one expectation may take

const step = s => console.log('STEP ' + s);
const check = (cond, msg) => { if (!cond) throw new Error('check failed: ' + msg); };
const shot = async (page, name) => {
  const p = `${ART}/${name}.png`;
  await page.screenshot({ path: p, fullPage: true });
  console.log('SCREENSHOT ' + p);
};
const pageErrors = [];
const watch = (page, who) => {
  page.on('pageerror', e => { pageErrors.push(`${who}: ${e.message}`); console.log(`PAGEERROR ${who}: ${e.message}`); });
  page.on('console', m => { if (m.type() === 'error') console.log(`CONSOLE ${who}: ${m.text()}`); });
};

async function signIn(page, user, password, extension = '') {
  await page.goto('/login');
  await page.fill('#user', user);
  await page.fill('#password', password);
  if (extension) await page.fill('#extension', extension);
  await page.click('#signin');
}

const browser = await chromium.launch({
  executablePath: env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // Root in a container has no user namespaces for Chromium's sandbox.
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
});
try {
  const ctx = () => browser.newContext({ baseURL: BASE, viewport: { width: 1400, height: 900 } });

  // ---- the admin: a wrong password, then signing in ----
  const adminCtx = await ctx();
  const admin = await adminCtx.newPage();
  admin.setDefaultTimeout(T);
  watch(admin, 'admin');
  await signIn(admin, env.ADMIN_USER, 'not-the-password');
  await admin.waitForSelector('#login-error:has-text("wrong user or password")');
  check(new URL(admin.url()).pathname === '/login', 'a wrong password stays on the sign-in page');
  await shot(admin, '01-login-refused');
  step('wrong-password-refused');

  await signIn(admin, env.ADMIN_USER, env.ADMIN_PASS);
  await admin.waitForURL('**/health');
  await admin.waitForSelector('#roles td:has-text("router")');
  await admin.waitForSelector('#server-groups td:has-text("vxml")');
  await admin.waitForSelector(`#registrations td:has-text("${env.AGENT_EXT}")`);
  await shot(admin, '02-health');
  step('health');

  // ---- change a skill group: add one, give the agent to it ----
  await admin.goto('/config/skill-groups');
  await admin.waitForSelector('#section-skill_groups tbody input');
  await admin.click('#add-skill_groups');
  await admin.locator('#section-skill_groups tbody tr').last().locator('input').fill('billing');
  await admin.click('#save-skill_groups');
  await admin.waitForSelector('#toast :text("Skill groups saved")');
  await admin.waitForSelector('#section-skill_groups input[value="billing"]', { state: 'attached' });
  await admin.goto('/config/agents');
  const agentRow = admin.locator('#section-agents tbody tr', { has: admin.locator(`input[data-key="id"][value="${env.AGENT}"]`) });
  await agentRow.locator('input[data-key="skill_groups"]').fill('sales, billing');
  await admin.click('#save-agents');
  await admin.waitForSelector('#toast :text("Agents saved")');
  await shot(admin, '03-agents');
  step('skill-group-changed');

  // ---- scripts: an error shown at its line, the flow diagram ----
  await admin.goto('/config/scripts');
  await admin.waitForSelector('#diagram svg.flow g[data-node]');
  const badLine = await admin.evaluate(() => {
    const ta = document.getElementById('router-yaml');
    const lines = ta.value.split('\n');
    const i = lines.findIndex(l => l.includes('skill_groups: [sales]') && l.includes('type: queue'));
    lines[i] = lines[i].replace('skill_groups: [sales]', 'skill_groups: [nosuch]');
    ta.value = lines.join('\n');
    ta.dispatchEvent(new Event('input'));
    return i + 1;
  });
  check(badLine > 0, 'the script has a queue node to break');
  await admin.waitForSelector(`#problems li[data-line="${badLine}"]:has-text("unknown skill group")`);
  await admin.waitForSelector(`pre.gutter span.bad[data-line="${badLine}"]`, { state: 'attached' });
  await shot(admin, '04-script-error-at-line');
  const saveStatus = await admin.evaluate(async () => {
    const me = await (await fetch('/api/me')).json();
    const r = await fetch('/api/config/router', { method: 'PUT', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf },
      body: JSON.stringify({ version: 0, yaml: document.getElementById('router-yaml').value }) });
    return r.status;
  });
  check(saveStatus === 422, `an invalid document is refused with 422, got ${saveStatus}`);
  step('script-error-at-line');

  // ---- media: a file that is not WAV is refused; a WAV plays ----
  await admin.goto('/config/media');
  await admin.setInputFiles('#media-file', env.BAD_PROMPT);
  await admin.click('#media-upload');
  await admin.waitForSelector('#media-error:has-text("not a RIFF/WAVE file")');
  await admin.setInputFiles('#media-file', env.PROMPT);
  await admin.click('#media-upload');
  await admin.waitForSelector('tr[data-name="welcome.wav"] audio');
  const played = await admin.evaluate(async () => {
    const a = document.querySelector('tr[data-name="welcome.wav"] audio');
    a.preload = 'auto';
    a.load();
    await new Promise((ok, bad) => { a.onloadedmetadata = ok; a.onerror = () => bad(new Error('audio error ' + a.error?.code)); setTimeout(() => bad(new Error('no metadata')), 10000); });
    return a.duration;
  });
  check(played > 0.4 && played < 0.6, `the uploaded prompt plays for 0.5 s, got ${played}`);
  await shot(admin, '05-media');
  step('prompt-uploaded');

  // ---- forged requests ----
  const noCSRF = await admin.evaluate(async () => (await fetch('/api/config/router/check', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"yaml":""}' })).status);
  check(noCSRF === 403, `a request without the CSRF token is refused with 403, got ${noCSRF}`);
  const anonCtx = await ctx();
  const anon = await anonCtx.request.put('/api/config/sections/skill_groups', { data: { version: 0, items: [] }, headers: { 'X-CSRF-Token': 'guess' } });
  check(anon.status() === 401, `a request without a session is refused with 401, got ${anon.status()}`);
  const anonPage = await (await ctx()).newPage();
  await anonPage.goto('/config/scripts');
  check(new URL(anonPage.url()).pathname === '/login', 'a page without a session sends to sign in');
  step('forged-refused');

  // ---- the agent signs in with an extension ----
  const agentCtx = await ctx();
  const agent = await agentCtx.newPage();
  agent.setDefaultTimeout(T);
  watch(agent, 'agent');
  await signIn(agent, env.AGENT, env.AGENT_PASS, env.AGENT_EXT);
  await agent.waitForURL('**/desktop');
  await agent.waitForSelector('#agent-state[data-state="not_ready"]');
  await agent.waitForFunction(() => document.body.dataset.events === 'open');
  const forbidden = await agent.goto('/config/scripts');
  check(forbidden.status() === 403, `an agent opening an admin page gets 403, got ${forbidden.status()}`);
  await shot(agent, '06-agent-forbidden');
  const apiForbidden = await agent.evaluate(async () => (await fetch('/api/config/router')).status);
  check(apiForbidden === 403, `an agent calling an admin API gets 403, got ${apiForbidden}`);
  await agent.goto('/desktop');
  await agent.waitForSelector('#agent-state[data-state="not_ready"]');
  await agent.waitForFunction(() => document.body.dataset.events === 'open');
  step('agent-refused-admin-page');

  // ---- the live view: a SIPp call appears, queued ----
  await admin.goto('/live');
  await admin.waitForSelector('#live-calls');
  step('need-call');
  await admin.waitForSelector('#live-calls tr[data-where="queue"]', { timeout: 30000 });
  await admin.selectOption('#live-script', env.SCRIPT);
  await admin.waitForSelector('#live-diagram g[data-node="q"] text.count[data-count="1"]');
  await shot(admin, '07-live-call-queued');
  await admin.goto('/wallboard');
  await admin.waitForSelector('[data-queue="sales"] [data-fig="waiting"]:text-is("1")');
  await shot(admin, '08-wallboard');
  step('call-in-live-view');

  // ---- the supervisor sees the team ----
  const sup = await (await ctx()).newPage();
  sup.setDefaultTimeout(T);
  watch(sup, 'supervisor');
  await signIn(sup, env.SUP, env.SUP_PASS);
  await sup.waitForURL('**/live');
  await sup.goto('/team');
  await sup.waitForSelector(`#team tr[data-agent="${env.AGENT}"] .pill.not_ready`);
  await sup.waitForSelector('#team-queues td:has-text("sales")');
  await shot(sup, '09-team');
  step('supervisor-team');

  // ---- the agent goes ready: screen pop, talking, wrap-up ----
  await agent.click('#ready');
  await agent.waitForSelector(`#pop-ani:text-is("${env.ANI}")`);
  await agent.waitForSelector(`#pop-dnis:text-is("${env.DNIS}")`);
  await agent.waitForSelector('#pop-calltype:text-is("sales")');
  // The phone answers at once and hangs up 6 s later.
  await agent.waitForSelector('#agent-state[data-state="talking"]');
  await agent.waitForSelector('#call-controls #release:not([disabled])');
  await shot(agent, '10-desktop-screen-pop');
  await sup.waitForSelector(`#team tr[data-agent="${env.AGENT}"] .pill.talking`);
  await agent.waitForSelector('#agent-state[data-state="work_ready"]', { timeout: 30000 });
  await agent.selectOption('#wrapup-reason', { label: 'Sale made' });
  await shot(agent, '11-desktop-wrap-up');
  await agent.click('#wrapup-ready');
  await agent.waitForSelector('#agent-state[data-state="ready"]');
  await shot(agent, '12-desktop-ready');
  step('wrap-up-set');

  // ---- hold, retrieve and a blind transfer to bob, from the desktop ----
  const bob = await (await ctx()).newPage();
  bob.setDefaultTimeout(T);
  watch(bob, 'bob');
  await signIn(bob, env.AGENT2, env.AGENT2_PASS, env.AGENT2_EXT);
  await bob.waitForURL('**/desktop');
  await bob.waitForSelector('#agent-state[data-state="not_ready"]');
  await bob.waitForFunction(() => document.body.dataset.events === 'open');
  step('need-transfer-call');
  await agent.waitForSelector('#agent-state[data-state="talking"]', { timeout: 30000 });
  await agent.waitForSelector('#call-state .pill:text-is("connected")');
  const enabled = async (page, ids) => page.evaluate(ids => Object.fromEntries(ids.map(id => [id, !document.getElementById(id).disabled])), ids);
  const buttons = ['hold', 'retrieve', 'release', 'transfer', 'consult', 'consult-complete', 'consult-cancel', 'conference'];
  let en = await enabled(agent, buttons);
  check(en.hold && !en.retrieve && en.release && en.transfer && en.consult && !en['consult-complete'] && !en['consult-cancel'] && !en.conference,
    'talking: hold, release, transfer and consult enabled; retrieve and the consult actions not: ' + JSON.stringify(en));
  await agent.click('#hold');
  await agent.waitForSelector('#agent-state[data-state="hold"]');
  await agent.waitForSelector('#call-state .pill:text-is("held")');
  en = await enabled(agent, buttons);
  check(!en.hold && en.retrieve && en.consult && !en['consult-complete'], 'on hold: retrieve and consult enabled, hold not: ' + JSON.stringify(en));
  await shot(agent, '13-desktop-on-hold');
  await agent.click('#retrieve');
  await agent.waitForSelector('#agent-state[data-state="talking"]');
  await agent.waitForSelector('#call-state .pill:text-is("connected")');
  await agent.selectOption('#transfer-to', 'agent');
  await agent.fill('#transfer-dest', env.AGENT2);
  await agent.click('#transfer');
  // The caller's media moves to bob's phone; alice's leg ends and she
  // goes to wrap-up.
  await agent.waitForSelector('#agent-state[data-state="work_ready"]');
  await agent.waitForSelector('#call-controls:empty', { state: 'attached' });
  await agent.selectOption('#wrapup-reason', { label: 'Sale made' });
  await agent.click('#wrapup-ready');
  await agent.waitForSelector('#agent-state[data-state="ready"]');
  step('hold-retrieve-transfer');

  // ---- a consult to bob, completed ----
  await bob.click('#ready');
  await bob.waitForSelector('#agent-state[data-state="ready"]');
  step('need-consult-call');
  await agent.waitForSelector('#agent-state[data-state="talking"]', { timeout: 30000 });
  await agent.waitForSelector('#call-state .pill:text-is("connected")');
  await agent.selectOption('#consult-to', 'agent');
  await agent.fill('#consult-dest', env.AGENT2);
  await agent.click('#consult');
  // The 200 comes once bob's phone has answered; bob's desktop pops the
  // call's data as for any offer.
  await agent.waitForSelector('#consult-state[data-consult="active"]');
  await agent.waitForSelector(`#consult-state .pill:text-is("consulting ${env.AGENT2}")`);
  await agent.waitForSelector('#call-state .pill:text-is("caller held")');
  await bob.waitForSelector(`#pop-ani:text-is("${env.ANI}")`);
  await bob.waitForSelector('#agent-state[data-state="talking"]');
  en = await enabled(agent, buttons);
  check(!en.hold && !en.retrieve && !en.release && !en.transfer && !en.consult && en['consult-complete'] && en['consult-cancel'] && en.conference,
    'consulting: only complete, cancel and conference enabled: ' + JSON.stringify(en));
  await shot(agent, '14-desktop-in-consult');
  await shot(bob, '15-desktop-consulted');
  const transferredCall = await agent.getAttribute('#screen-pop .pop', 'data-call');
  await agent.click('#consult-complete');
  await agent.waitForSelector('#agent-state[data-state="work_ready"]');
  await agent.waitForSelector('#call-controls:empty', { state: 'attached' });
  // bob has the caller now; the caller hangs up a second later.
  await bob.waitForSelector('#agent-state[data-state="work_ready"]', { timeout: 30000 });
  await bob.selectOption('#wrapup-reason', { label: 'Sale made' });
  await bob.click('#wrapup-ready');
  await bob.waitForSelector('#agent-state[data-state="ready"]');
  await agent.click('#wrapup-ready');
  await agent.waitForSelector('#agent-state[data-state="ready"]');
  step('consult-complete');

  // ---- a consult to bob, cancelled: alice has the caller back ----
  step('need-consult-cancel-call');
  await agent.waitForSelector('#agent-state[data-state="talking"]', { timeout: 30000 });
  await agent.waitForSelector('#call-state .pill:text-is("connected")');
  await agent.selectOption('#consult-to', 'agent');
  await agent.fill('#consult-dest', env.AGENT2);
  await agent.click('#consult');
  await agent.waitForSelector('#consult-state[data-consult="active"]');
  await bob.waitForSelector('#agent-state[data-state="talking"]');
  // A reload mid-consult: the desktop picks the consult up from the
  // agent's status (its consult field), and cancel still works from it.
  await agent.reload();
  await agent.waitForSelector(`#consult-state .pill:text-is("consulting ${env.AGENT2}")`);
  await agent.click('#consult-cancel');
  await agent.waitForSelector('#consult-state[data-consult=""]', { state: 'attached' });
  await agent.waitForSelector('#call-state .pill:text-is("connected")');
  en = await enabled(agent, buttons);
  check(en.hold && en.release && en.consult && !en['consult-complete'], 'consult cancelled: back to talking with the caller: ' + JSON.stringify(en));
  // bob talked, so he wraps up; the caller hangs up on alice a second later.
  await bob.waitForSelector('#agent-state[data-state="work_ready"]');
  await bob.click('#wrapup-not-ready');
  await bob.waitForSelector('#agent-state[data-state="not_ready"]');
  await agent.waitForSelector('#agent-state[data-state="work_ready"]', { timeout: 30000 });
  await agent.click('#wrapup-ready');
  await agent.waitForSelector('#agent-state[data-state="ready"]');
  step('consult-cancel');

  // ---- the reports show the calls ----
  const agentReports = await agent.evaluate(async () => (await fetch('/v1/reports/realtime')).status);
  check(agentReports === 403, `an agent reading the reporting API gets 403, got ${agentReports}`);
  await admin.goto('/reports');
  await admin.waitForSelector('#chart-volume');
  // A call's records are derived about a second after its last event (a
  // wrap-up's end is one): show again until the four calls are there.
  const handledInChart = () => admin.evaluate(() => [...document.querySelectorAll('#chart-volume rect.handled')].reduce((s, r) => s + Number(r.dataset.value), 0));
  let handled = await handledInChart();
  for (let i = 0; i < 30 && handled < 4; i++) {
    await admin.waitForTimeout(1000);
    await admin.click('#rep-show');
    await admin.waitForSelector('#chart-volume');
    handled = await handledInChart();
  }
  check(handled === 4, `the interval chart shows the 4 handled calls, got ${handled}`);
  await admin.waitForSelector('#rep-rows tr[data-name="sales"]');
  // Each call was answered at once (alice was ready), well inside the
  // 20 s service level.
  const slPoint = await admin.getAttribute('#chart-rates circle.sl', 'data-value');
  check(Number(slPoint) === 1, `the rates chart's service level point is 100 %, got ${slPoint}`);
  const sl = await admin.textContent('#rep-total td:nth-of-type(6)');
  check(sl.trim() === '100%', `the total row's service level is 100 %, got ${sl}`);
  const csvText = await admin.evaluate(async () => {
    const r = await fetch(document.getElementById('csv-intervals').href);
    return r.status + ' ' + await r.text();
  });
  check(csvText.startsWith('200 kind,name,start,offered,handled') && csvText.includes('call_type,sales,'), 'the intervals CSV downloads: ' + csvText.slice(0, 120));
  await admin.selectOption('#rep-kind', 'skill_group');
  await admin.waitForSelector('#rep-rows tr[data-name="sales"]');
  await admin.selectOption('#rep-kind', 'call_type');
  await admin.waitForSelector('#rep-rows tr[data-name="sales"]');
  await shot(admin, '16-reports');
  step('report-chart');

  // ---- the call search finds the consult call; its journey opens ----
  await admin.fill('#search-number', env.ANI);
  await admin.click('#search-go');
  await admin.waitForSelector('#search-table tbody tr[data-call]');
  const found = await admin.locator('#search-table tbody tr[data-call]').count();
  check(found === 4, `the search by number finds the 4 calls, got ${found}`);
  await admin.click(`#search-table tbody tr[data-call="${transferredCall}"] button.open-journey`);
  await admin.waitForSelector(`#journey .journey[data-call="${transferredCall}"]`);
  await admin.waitForSelector('#journey-events li[data-kind="call.new"]');
  await admin.waitForSelector('#journey-events li[data-kind="call.consult"]');
  await admin.waitForSelector('#journey-events li[data-kind="agent.transfer"]');
  await admin.waitForSelector('#journey-events li[data-kind="call.ended"]');
  await admin.fill('#search-agent', env.AGENT2);
  await admin.fill('#search-number', '');
  await admin.click('#search-go');
  // bob talked on the two consult calls.
  await admin.waitForFunction(() => document.querySelectorAll('#search-table tbody tr[data-call]').length === 2);
  await shot(admin, '17-report-journey');
  step('report-journey');

  // ---- the supervisor: the same reports, the wallboard's day figures ----
  await sup.goto('/reports');
  await sup.waitForSelector('#chart-volume rect.handled[data-value="4"]');
  await sup.goto('/wallboard');
  await sup.waitForSelector('[data-queue="sales"] [data-fig="handled-today"]:text-is("4")');
  const slToday = await sup.textContent('[data-queue="sales"] [data-fig="sl-today"]');
  check(slToday === '100%', `the wallboard shows today's service level (100 %), got ${slToday}`);
  await shot(sup, '18-wallboard-service-level');
  step('wallboard-service-level');

  // ---- SIP: a bad CIDR shown at its field; a new server group and a
  // dial-plan rule, applied to the running edge ----
  await admin.goto('/config/sip');
  await admin.waitForSelector('#sip-trunks tr.trunk input[data-key="networks"]');
  await admin.waitForSelector(`#registrations tr[data-ext="${env.AGENT_EXT}"]`);
  const nets = admin.locator('#sip-trunks tr.trunk').first().locator('input[data-key="networks"]');
  const oldNets = await nets.inputValue();
  await nets.fill(oldNets + ', 10.0.0.0/33');
  await admin.click('#sip-save');
  await admin.waitForSelector('#sip-trunks input[data-key="networks"].invalid + .field-error:has-text("is not a CIDR network")');
  await shot(admin, '19-sip-bad-cidr-at-field');
  await nets.fill(oldNets);
  step('sip-bad-cidr-at-field');
  await admin.click('#sip-add-group');
  const grp = admin.locator('#sip-groups section.group').last();
  await grp.locator('input[data-key="name"]').fill('branch');
  // SIPp's UAS takes INVITEs only: no OPTIONS heartbeat to it.
  await grp.locator('input[data-key="hb-enabled"]').uncheck();
  await grp.locator('tr.dest input[data-key="address"]').fill(env.BRANCH_ADDR);
  await grp.locator('tr.dest input[data-key="weight"]').fill('2');
  await admin.click('#sip-add-rule');
  const rule = admin.locator('#sip-rules tr.rule').last();
  await rule.locator('input[data-key="pattern"]').fill(env.BRANCH_RULE);
  await rule.locator('input[data-key="target"]').fill('branch');
  await admin.click('#sip-save');
  await admin.waitForSelector('#toast :text("SIP configuration saved")');
  // Reloaded from the server: the new destination is live, and up.
  await admin.waitForSelector(`#sip-groups tr.dest:has(input[value="${env.BRANCH_ADDR}"]) td.state[data-state="up"]`);
  check(await admin.locator('#sip-problems li').count() === 0, 'the valid SIP configuration saved without problems');
  await shot(admin, '20-sip');
  step('need-branch-call');

  check(pageErrors.length === 0, 'no script errors in the pages: ' + pageErrors.join('; '));
  step('done');
} finally {
  await browser.close();
}
