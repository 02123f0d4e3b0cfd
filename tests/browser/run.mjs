/* Browser tests of bulkrepo's web UI (issue 4, "Tests"): playwright-core drives
 * Debian's headless Chromium against a real `bulkrepo serve` on a free loopback
 * port, over a temporary repository with one collection and three users:
 *   alice  Repository Manager (may run imports and exports)
 *   bob    Researcher Manager (may run no import or export job, nor open Run a Job)
 *   grace  General System Administrator (may run the set jobs and reverts)
 * Flows: log in; upload a SAF zip and watch it reach Completed Successfully on
 * the monitor page; open its report and its imported records; upload an invalid
 * package and download its unimported records; make an export fail for a
 * non-data reason and rerun it from its report; check bob sees none of alice's
 * jobs; log out.  Issue 15, at 1366 px and at 390 px: the status filter
 * filters; a CLI-run job's bar reads 100 % with its phase; a failed
 * validation reads "Failed" with its counts and no bar; an export's output
 * downloads with the right bytes; a zip of an Esploro CSV and its files
 * imports with its files; names never wrap mid-word; the report lists every
 * error of a rejected record; no 404 or 401 in the console on load.
 * Issue 10, as grace (General System Administrator): records imported are found by a
 * fielded query; a malformed query shows where it breaks; the record view shows a record
 * and downloads its file; a search is saved as a set, a job's records make another;
 * "Update Set of Research Assets" runs through the Run a Job wizard (member count and the
 * preview's old → new on the Review step, Confirm, the notice when it ends) and changes
 * the records; its Revert (a dry run first) puts them back; "Delete Set of Research
 * Assets" puts a record in the Trash and Restore brings it back; bob (Researcher Manager)
 * does not see the Run a Job page and alice (Repository Manager) is not offered set jobs.
 * Screenshots of each page go to SCREENSHOTS (default build/screenshots/).
 * No fixed sleeps: every wait is for a condition, with a timeout.
 *
 *   node run.mjs            BULKREPO_BIN (default ../../build/bulkrepo),
 *                           CHROMIUM (default /usr/bin/chromium),
 *                           BROWSER_KEEP=1 keeps the temp dir, BROWSER_HEADFUL=1 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { dirEntries, zipBuffer, zipFiles, zipNames } from './zip.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const BIN = resolve(process.env.BULKREPO_BIN || join(ROOT, 'build/bulkrepo'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT = 30000; /* the longest any condition may take */
const PASSWORD = { alice: 'alice-secret-42', bob: 'bob-secret-42', grace: 'grace-secret-42' };
const SHOTS = resolve(process.env.SCREENSHOTS || join(ROOT, 'build/screenshots'));
const WIDTHS = [1366, 390];

const T = mkdtempSync(join(tmpdir(), 'bulkrepo-browser-'));
const REPO = join(T, 'repo');
let server, base, browser, coll, cliJob, failedJob;
const errors = []; /* page errors and CSP violations, asserted empty at the end */

function br(args, input) {
  return execFileSync(BIN, ['--repo', REPO, ...args], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim();
}
/* Polls fn until it returns a truthy value; throws with `what` after ms. */
async function until(what, fn, ms = WAIT) {
  const end = Date.now() + ms;
  let last;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    try { const v = await fn(); if (v) return v; } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}
/* bulkrepo serve on a free port: --listen 127.0.0.1:0 prints the address it took. */
async function startServer() {
  const log = openSync(join(T, 'serve.log'), 'a');
  const p = spawn(BIN, ['--repo', REPO, 'serve', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', log] });
  let exited = null, out = '';
  p.on('exit', (code, sig) => { exited = `${code ?? sig}`; });
  p.stdout.on('data', (d) => { out += d; });
  const url = await until('the server to say where it listens', () => {
    if (exited !== null) throw new Error(`bulkrepo serve exited (${exited}); see ${join(T, 'serve.log')}`);
    const m = out.match(/listening on (http:\/\/[^/\s]+)/);
    return m && m[1];
  }, 15000);
  await until('the server to answer /api/health', async () => (await fetch(`${url}/api/health`)).ok, 15000);
  return { proc: p, url };
}
/* A SAF zip of examples/saf (+ extra entries). */
function safZip(file, extra = []) {
  writeFileSync(file, zipBuffer([...dirEntries(join(ROOT, 'examples/saf')), ...extra]));
  return file;
}
async function newPage(user, width = 1366) {
  const ctx = await browser.newContext({ acceptDownloads: true, viewport: { width, height: width < 600 ? 844 : 800 } });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(`${user}: page error: ${e.message}`));
  /* Any console error: a CSP violation, or a 404 (favicon) or 401 (/api/me) on load. */
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = (m.location() && m.location().url) || '';
    if (/Content Security Policy|Refused to/.test(m.text()) || /\/favicon|\/api\/me$/.test(url))
      errors.push(`${user}@${width}: ${m.text()} ${url}`);
  });
  return page;
}
async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}-${page.viewportSize().width}.png`), fullPage: true });
}
/* The monitor's History tab with a filter chosen. */
async function history(page, query = '') {
  await page.goto(`${base}/#/monitor?tab=history${query ? '&' + query : ''}`);
  await page.locator('#jobs tbody tr, p.empty:not([hidden])').first().waitFor({ timeout: WAIT });
}
/* Text lines an element takes: its height over its line height. */
async function lines(loc) {
  return loc.evaluate((el) => {
    const cs = getComputedStyle(el);
    const lh = parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.45;
    return Math.round(el.getBoundingClientRect().height / lh);
  });
}
async function login(page, user) {
  await page.goto(`${base}/`);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(PASSWORD[user]);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Monitor Jobs' }).waitFor({ timeout: WAIT });
}
/* A link of the main navigation. */
function nav(page, name) {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });
}
/* The job id the page shows after a submit (#/jobs/N). */
async function jobIdOf(page) {
  await page.waitForURL(/#\/jobs\/\d+$/, { timeout: WAIT });
  return Number(page.url().match(/#\/jobs\/(\d+)$/)[1]);
}
async function reportStatus(page, code) {
  await page.locator(`.report .head .status[data-status="${code}"]`).waitFor({ timeout: WAIT });
}
async function uploadImport(page, file, { name, skipInvalid = false } = {}) {
  await nav(page, 'Import').click();
  await page.getByRole('radio', { name: /DSpace Simple Archive Format/ }).check();
  await page.getByLabel('Collection').selectOption(coll);
  await page.locator('input[type=file]').setInputFiles(file);
  if (name) await page.getByLabel('Job name (optional)').fill(name);
  if (skipInvalid) await page.getByLabel(/Skip invalid records/).check();
  await page.getByRole('button', { name: 'Upload and import' }).click();
  return jobIdOf(page);
}
async function api(path, user) {
  const r = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: user, password: PASSWORD[user] }) });
  const { token } = await r.json();
  const res = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: res.ok ? await res.json() : null };
}
/* GET path as user: {status, body}, the body of an error answer too (a search's position). */
const tokens = {};
async function apiAny(path, user) {
  if (!tokens[user]) {
    const r = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: user, password: PASSWORD[user] }) });
    tokens[user] = (await r.json()).token;
  }
  const res = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${tokens[user]}` } });
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch (e) { body = null; }
  return { status: res.status, body };
}
/* A SAF item's dublin_core.xml. */
function dcXml(fields) {
  const esc = (v) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return '<?xml version="1.0" encoding="UTF-8"?>\n<dublin_core schema="dc">\n'
    + fields.map(([el, q, v]) => `  <dcvalue element="${el}" qualifier="${q}">${esc(v)}</dcvalue>\n`).join('')
    + '</dublin_core>\n';
}
/* Three kestrel records (a word no other test uses); the first has a file. */
const KESTREL_FILE = Buffer.from('Kestrel field notes\r\nObserver: Håkan Lindqvist\r\n\u00e9t\u00e9 2021 — 14 nests\r\n', 'utf8');
const KESTRELS = [
  { dir: 'k1', title: 'Kestrel nesting on urban towers', author: 'Moreau, Inès', date: '2021-04-02', file: 'kestrel-notes.txt' },
  { dir: 'k2', title: 'Kestrel diet in farmland', author: 'Okafor, Adaeze', date: '2019-09-30' },
  { dir: 'k3', title: 'Kestrel migration counts', author: 'Lindqvist, Håkan', date: '2023-01-15' },
];
function kestrelZip(file) {
  const entries = [];
  for (const k of KESTRELS) {
    entries.push({ name: `${k.dir}/dublin_core.xml`, data: Buffer.from(dcXml([['title', 'none', k.title],
      ['contributor', 'author', k.author], ['date', 'issued', k.date], ['type', 'none', 'Article'],
      ['subject', 'none', 'ornithology']])) });
    entries.push({ name: `${k.dir}/contents`, data: Buffer.from(k.file ? `${k.file}\tbundle:ORIGINAL\n` : '') });
    if (k.file) entries.push({ name: `${k.dir}/${k.file}`, data: KESTREL_FILE });
  }
  writeFileSync(file, zipBuffer(entries));
  return file;
}
/* Runs a search on the Search page and waits for its answer (a total or an error). */
async function search(page, q) {
  if (!page.url().includes('#/search')) await nav(page, 'Search').click();
  await page.getByLabel('Search records').fill(q);
  await page.getByLabel('Search records').press('Enter');
  const want = `#/search?${new URLSearchParams({ q })}`;
  await until(`the search for ${q}`, () => page.url().endsWith(want));
  /* this query's answer, not the previous page's still on screen */
  await page.waitForFunction((query) => {
    const r = document.querySelector('.results');
    return r && r.dataset.q === query && r.querySelector('.total, [role="alert"]');
  }, q, { timeout: WAIT });
}
async function searchTotal(page) {
  return Number(await page.locator('.results .total').getAttribute('data-total'));
}
/* The handle of the record job imported with this title (through the API). */
async function handleOf(job, title) {
  const { body } = await apiAny(`/api/items?job=${job}`, 'grace');
  const it = ((body && body.items) || []).find((x) => x.title === title);
  assert.ok(it, `job ${job} imported "${title}": ${JSON.stringify(body)}`);
  return it.handle;
}
/* The values of a field on the record view. */
async function fieldText(page, handle, field) {
  await page.goto(`${base}/#/records/${handle}`);
  await page.locator('table.meta').waitFor({ timeout: WAIT });
  const row = page.locator(`table.meta tr[data-field="${field}"] td`);
  return (await row.count()) ? row.textContent() : '';
}

before(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build it first (make)`);
  br(['init']);
  coll = br(['collection', 'create', 'Browser test collection']);
  br(['user', 'add', 'alice', '--role', 'REPOSITORY_MANAGER', '--password-stdin'], PASSWORD.alice + '\n');
  br(['user', 'add', 'bob', '--role', 'RESEARCHER_MANAGER', '--password-stdin'], PASSWORD.bob + '\n');
  br(['user', 'add', 'grace', '--role', 'GENERAL_SYSTEM_ADMINISTRATOR', '--password-stdin'], PASSWORD.grace + '\n');
  br(['orgunit', 'import', join(ROOT, 'examples/esploro/units.csv')]);
  /* A job run from the command line (the lead's progress is recorded for it
   * too), and a validation that fails: an item names a file it lacks. */
  const cliColl = br(['collection', 'create', 'Command-line imports']);
  /* (without the DOI, which would match the uploads of the same package below) */
  const pkg = join(T, 'clisaf');
  cpSync(join(ROOT, 'examples/saf'), pkg, { recursive: true });
  const dc = join(pkg, 'item_001/dublin_core.xml');
  writeFileSync(dc, readFileSync(dc, 'utf8').replace(/.*qualifier="doi".*\n/, ''));
  br(['import', '-a', '-s', pkg, '-c', cliColl, '-m', join(T, 'cli.map'),
    '--name', 'A command-line import of the example package with a long descriptive name']);
  const bad = join(T, 'badsaf');
  cpSync(join(ROOT, 'examples/saf'), bad, { recursive: true });
  mkdirSync(join(bad, 'item_009'));
  cpSync(join(ROOT, 'examples/saf/item_002/dublin_core.xml'), join(bad, 'item_009/dublin_core.xml'));
  writeFileSync(join(bad, 'item_009/contents'), 'missing.pdf\n');
  try { br(['import', '-a', '-v', '-s', bad, '-c', cliColl, '-m', join(T, 'bad.map')]); } catch (e) { /* exit 3 */ }
  const list = JSON.parse(br(['job', 'list', '--json']));
  cliJob = list.find((j) => j.status.code === 'COMPLETED_SUCCESS').id;
  failedJob = list.find((j) => j.status.code === 'FAILED').id;
  server = await startServer();
  base = server.url;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: !process.env.BROWSER_HEADFUL,
    /* The env notes' flags: Chromium must not reach for the network it cannot have. */
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    server.proc.kill('SIGTERM');
    await until('the server to stop', () => server.proc.exitCode !== null || server.proc.signalCode !== null, 10000)
      .catch(() => server.proc.kill('SIGKILL'));
  }
  if (process.env.BROWSER_KEEP) console.log(`# kept ${T}`);
  else rmSync(T, { recursive: true, force: true });
});

describe('bulkrepo web UI', { concurrency: false }, () => {
  let alice, goodJob;

  test('a wrong password is refused, the right one logs in', async () => {
    alice = await newPage('alice');
    await alice.goto(`${base}/`);
    await alice.getByLabel('User name').fill('alice');
    await alice.getByLabel('Password').fill('not-the-password');
    await alice.getByRole('button', { name: 'Log in' }).click();
    await alice.getByRole('alert').filter({ hasText: 'not right' }).waitFor({ timeout: WAIT });
    await login(alice, 'alice');
    assert.equal(await alice.locator('#who-name').textContent(), 'alice');
  });

  test('a SAF zip uploaded on the Import page reaches Completed Successfully on the monitor', async () => {
    const zip = safZip(join(T, 'good.zip'));
    goodJob = await uploadImport(alice, zip, { name: 'Browser upload' });
    await nav(alice, 'Monitor Jobs').click();
    await alice.getByRole('tab', { name: /History/ }).click();
    const row = alice.locator(`#jobs tr[data-job="${goodJob}"]`);
    await alice.locator(`#jobs tr[data-job="${goodJob}"][data-status="COMPLETED_SUCCESS"]`).waitFor({ timeout: WAIT });
    assert.equal((await row.locator('td.name').textContent()).trim(), 'Browser upload');
    assert.equal((await row.locator('.status').textContent()).trim(), 'Completed Successfully');
    assert.equal(await row.locator('progress').getAttribute('value'), '100');
    assert.match(await row.textContent(), /alice/);
    /* the notice of seed 001: the job this user started has ended */
    await alice.locator('.notice').filter({ hasText: `Job ${goodJob}` }).filter({ hasText: 'Completed Successfully' })
      .waitFor({ timeout: WAIT });
  });

  test('the report shows counters, file details and events; imported records are listed', async () => {
    await alice.getByRole('link', { name: `Job ${goodJob} report` }).click();
    await reportStatus(alice, 'COMPLETED_SUCCESS');
    const counter = (k) => alice.locator(`tr[data-counter="${k}"] td`).textContent();
    assert.equal(await counter('processed'), '3');
    assert.equal(await counter('imported'), '3');
    assert.equal(await counter('not_imported'), '0');
    await alice.getByRole('heading', { name: 'File details' }).waitFor();
    assert.match(await alice.locator('table', { hasText: 'Input files' }).textContent(), /good\.zip/);
    assert.ok(await alice.locator('table', { hasText: 'Job events' }).locator('tbody tr').count() > 0, 'events are listed');
    assert.equal(await alice.getByRole('button', { name: 'Rerun' }).count(), 0, 'no rerun for a successful job');
    assert.equal(await alice.getByRole('button', { name: 'Cancel job' }).count(), 0, 'no cancel for an ended job');
    await alice.getByRole('link', { name: 'View imported records' }).click();
    const rows = alice.locator('table', { hasText: 'Imported records' }).locator('tbody tr');
    await until('3 imported records', async () => (await rows.count()) === 3);
    assert.match(await rows.first().textContent(), /123456789\//);
  });

  test('an invalid package: the valid items go in, the unimported records download as a SAF zip', async () => {
    const bad = safZip(join(T, 'bad.zip'), [
      { name: 'item_004/dublin_core.xml', data: readFileSync(join(ROOT, 'examples/saf/item_002/dublin_core.xml')) },
      { name: 'item_004/contents', data: Buffer.from('missing.pdf\n') },
    ]);
    const id = await uploadImport(alice, bad, { skipInvalid: true });
    await reportStatus(alice, 'COMPLETED_WITH_ERRORS');
    assert.equal(await alice.locator('tr[data-counter="not_imported"] td').textContent(), '1');
    await alice.getByRole('heading', { name: /Records not imported \(1\)/ }).waitFor({ timeout: WAIT });
    await alice.locator('table', { hasText: 'Records not imported' }).getByText(/missing\.pdf/).waitFor({ timeout: WAIT });
    const [dl] = await Promise.all([
      alice.waitForEvent('download', { timeout: WAIT }),
      alice.getByRole('link', { name: /Download unimported records/ }).click(),
    ]);
    const file = join(T, 'unimported.zip');
    await dl.saveAs(file);
    const names = zipNames(readFileSync(file));
    assert.ok(names.some((n) => n.startsWith('item_004/')), `item_004 in the download: ${names}`);
    assert.ok(!names.some((n) => n.startsWith('item_001/')), 'only rejected items in the download');
    assert.ok(names.some((n) => /errors/.test(n)), `an errors file in the download: ${names}`);
    assert.equal(await alice.getByRole('button', { name: 'Rerun' }).count(), 0, `job ${id} is not rerun`);
  });

  test('an export that failed for a non-data reason is rerun from its report', async () => {
    /* The export's default destination is <repo>/exports/<id>/: a plain file
     * in its place makes the job fail with an I/O error (as a full or broken
     * disk would); the operator repairs it and reruns. */
    const exportsDir = join(REPO, 'exports');
    rmSync(exportsDir, { recursive: true, force: true });
    writeFileSync(exportsDir, 'not a folder\n');
    await nav(alice, 'Run a Job').click();
    await alice.getByLabel('Export a collection as a DSpace Simple Archive Format package').check();
    await alice.getByRole('button', { name: 'Next' }).click();
    await alice.getByLabel('Collection to export').selectOption(coll);
    await alice.getByRole('button', { name: 'Next' }).click();
    await alice.getByRole('heading', { name: 'Review and confirm' }).waitFor();
    await alice.getByLabel(/Job name/).fill('Nightly export');
    await alice.getByRole('button', { name: 'Submit' }).click();
    await alice.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    const failed = await jobIdOf(alice);
    await reportStatus(alice, 'FAILED');
    rmSync(exportsDir, { force: true });
    mkdirSync(exportsDir);
    await alice.getByRole('button', { name: 'Rerun' }).click();
    await alice.getByRole('dialog').getByRole('button', { name: 'Rerun' }).click();
    await alice.waitForURL((u) => /#\/jobs\/\d+$/.test(u.hash) && !u.hash.endsWith(`/${failed}`), { timeout: WAIT });
    const rerun = await jobIdOf(alice);
    await reportStatus(alice, 'COMPLETED_SUCCESS');
    assert.match(await alice.locator('.facts').first().textContent(), new RegExp(`Rerun of\\s*Job ${failed}`));
    assert.notEqual(rerun, failed);
  });

  test('a user without the role sees none of these jobs and cannot import', async () => {
    const bob = await newPage('bob');
    await login(bob, 'bob');
    await bob.getByRole('tab', { name: /History/ }).click();
    /* wait for the first load of the table or of its empty message */
    await until('the monitor to load', async () => (await bob.locator('.muted.small').textContent()).includes('Updated'));
    assert.equal(await bob.locator(`#jobs tr[data-job="${goodJob}"]`).count(), 0, 'bob does not see alice\'s import');
    const { body } = await api('/api/jobs', 'bob');
    assert.ok(!body.jobs.some((j) => j.id === goodJob), 'nor through the API');
    await bob.goto(`${base}/#/jobs/${goodJob}`);
    await bob.getByRole('alert').waitFor({ timeout: WAIT });
    await nav(bob, 'Import').click();
    await bob.getByText('Your roles do not allow any import').waitFor({ timeout: WAIT });
    await bob.context().close();
  });

  for (const width of WIDTHS) {
    test(`${width} px: the login page loads with no 401 or 404 and no focus ring around the page`, async () => {
      const page = await newPage('anonymous', width);
      await page.goto(`${base}/`);
      await page.getByRole('heading', { name: 'Log in to bulkrepo' }).waitFor({ timeout: WAIT });
      const ring = await page.locator('main').evaluate((el) => getComputedStyle(el).outlineStyle);
      assert.equal(ring, 'none', 'main has no outline');
      const icon = await fetch(`${base}/favicon.svg`);
      assert.equal(icon.status, 200, 'the favicon is served');
      await shot(page, 'login');
      await page.context().close();
    });

    test(`${width} px: the status filter lists its statuses and filters`, async () => {
      const page = await newPage('alice', width);
      await login(page, 'alice');
      await history(page);
      const opts = await page.locator('#f-status option').allTextContents();
      assert.ok(opts.includes('Completed Successfully') && opts.includes('Failed'), `options: ${opts}`);
      assert.ok(!opts.some((o) => /object/.test(o)), `no [object ...] option: ${opts}`);
      await page.locator('#f-status').selectOption('FAILED');
      await until('only failed jobs', async () => {
        const st = await page.locator('#jobs tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.status));
        return st.length > 0 && st.every((x) => x === 'FAILED');
      });
      assert.match(page.url(), /status=FAILED/);
      await page.locator('#f-status').selectOption('COMPLETED_SUCCESS');
      await until('only successful jobs', async () => {
        const st = await page.locator('#jobs tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.status));
        return st.length > 0 && st.every((x) => x === 'COMPLETED_SUCCESS');
      });
      /* the user filter: part of a name, as one types */
      await page.locator('#f-status').selectOption('');
      await page.locator('#f-user').fill('LIC');
      await until('alice\'s jobs', async () => (await page.locator('#jobs tbody tr').count()) > 0);
      await page.locator('#f-user').fill('nobody-here');
      await page.locator('p.empty:not([hidden])').waitFor({ timeout: WAIT });
      await page.locator('#f-user').fill('');
      await until('the jobs again', async () => (await page.locator('#jobs tbody tr').count()) > 0);
      await shot(page, 'monitor');
      await page.context().close();
    });

    test(`${width} px: a CLI-run job reads 100 % with its phase; a failed validation reads Failed with its counts and no bar`, async () => {
      const page = await newPage('alice', width);
      await login(page, 'alice');
      await history(page);
      const row = page.locator(`#jobs tr[data-job="${cliJob}"]`);
      assert.equal(await row.locator('progress').getAttribute('value'), '100');
      assert.match(await row.locator('.ptext').first().textContent(), /^100% · 3 processed, 3 imported$/);
      const bad = page.locator(`#jobs tr[data-job="${failedJob}"]`);
      assert.equal(await bad.locator('progress').count(), 0, 'no partial bar for a failed job');
      assert.match(await bad.locator('.progress').textContent(), /^Failed · 4 processed, 1 not imported$/);
      /* names never wrap mid-word: one line, cut with an ellipsis and a tooltip */
      const name = row.locator('td.name .cut');
      assert.equal(await name.evaluate((el) => getComputedStyle(el).whiteSpace), 'nowrap');
      assert.equal(await lines(name), 1, 'the name takes one line');
      assert.match(await name.getAttribute('title'), /long descriptive name/);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `the page is not wider than the screen (${overflow} px over)`);
      if (width < 600) {
        assert.equal(await nav(page, 'Import').isVisible(), false, 'the navigation is folded');
        await page.getByRole('button', { name: 'Menu' }).click();
        assert.equal(await nav(page, 'Import').isVisible(), true, 'Menu opens it');
        assert.equal(await page.getByRole('button', { name: 'Log out' }).isVisible(), true);
        const box = await page.getByRole('button', { name: 'Log out' }).boundingBox();
        assert.ok(box.x + box.width <= width, 'Log out stays on the screen');
        await page.getByRole('button', { name: 'Menu' }).click();
      }
      await page.goto(`${base}/#/jobs/${cliJob}`);
      await reportStatus(page, 'COMPLETED_SUCCESS');
      const { body } = await api(`/api/jobs/${cliJob}`, 'alice');
      assert.ok(body.progress.phase, 'the job names its last phase');
      assert.match(await page.locator('.report .progress').textContent(), new RegExp(`100%.*last phase: ${body.progress.phase}`, 'i'));
      assert.match(await page.locator('.report').textContent(), /Speed/);
      const counters = await page.locator('tr[data-counter]').evaluateAll((r) => r.map((x) => x.dataset.counter));
      assert.deepEqual(counters, ['processed', 'imported', 'updated', 'not_imported', 'skipped', 'matched',
        'multi_matches', 'newer_in_repository', 'bitstreams']);
      /* events with labels, never raw codes (a CLI-run job's events: the engine's part) */
      assert.doesNotMatch(await page.locator('section[aria-labelledby="h-events"]').textContent(), /COMPLETED_SUCCESS|No events yet/);
      await shot(page, 'report-cli-import');
      await page.goto(`${base}/#/jobs/${failedJob}`);
      await reportStatus(page, 'FAILED');
      assert.equal(await page.locator('.report .progress progress').count(), 0);
      assert.match(await page.locator('.report .progress').textContent(), /Failed · 4 processed, 1 not imported/);
      await page.locator('#rejected tbody tr').first().waitFor({ timeout: WAIT });
      assert.match(await page.locator('#rejected').textContent(), /missing\.pdf/);
      await shot(page, 'report-failed-validation');
      await page.context().close();
    });
  }

  test('390 px: a zip of an Esploro CSV and its files imports with its files; 1366 px: every error of a rejected record is listed', async () => {
    const page = await newPage('alice', 390);
    await login(page, 'alice');
    const ex = join(ROOT, 'examples/esploro');
    const zip = join(T, 'assets-with-files.zip');
    writeFileSync(zip, zipBuffer([{ name: 'assets.csv', data: readFileSync(join(ex, 'assets.csv')) },
      ...dirEntries(join(ex, 'files'), 'files/')]));
    await page.getByRole('button', { name: 'Menu' }).click();
    await nav(page, 'Import').click();
    await page.getByRole('radio', { name: /Esploro/ }).check();
    await page.getByLabel('Collection').selectOption(coll);
    await page.locator('input[type=file]').setInputFiles(zip);
    await shot(page, 'import');
    await page.getByRole('button', { name: 'Upload and import' }).click();
    const id = await jobIdOf(page);
    await reportStatus(page, 'COMPLETED_SUCCESS');
    assert.equal(await page.locator('tr[data-counter="imported"] td').textContent(), '3');
    assert.equal(await page.locator('tr[data-counter="bitstreams"] td').textContent(), '4');
    await shot(page, 'report-esploro-zip');
    await page.context().close();

    /* a CSV whose first asset has five errors, uploaded with skip-invalid */
    const wide = await newPage('alice', 1366);
    await login(wide, 'alice');
    const lines_ = readFileSync(join(ex, 'assets.csv'), 'utf8').split('\n');
    const head = lines_[0].split(',');
    const bad = lines_.map((l) => {
      const c = l.split(',');
      if (c[0] !== 'ASSET' || c[1] !== 'okafor-2025') return l;
      return l.replace(/^ASSET,okafor-2025,[^,]*/, 'ASSET,okafor-2025,').replace(/,article\.[a-z_]+,|,publication\.[a-zA-Z]+,/, ',notatype,');
    });
    assert.ok(head.includes('ASSET_TITLE'));
    const csv = join(T, 'bad-assets.csv');
    writeFileSync(csv, bad.join('\n'));
    await nav(wide, 'Import').click();
    await wide.getByRole('radio', { name: /Esploro/ }).check();
    await wide.getByLabel('Collection').selectOption(coll);
    await wide.locator('input[type=file]').setInputFiles([csv, ...['lindqvist-2023-floodplain-sediments.pdf'].map((f) => join(ex, 'files', f))]);
    await wide.getByLabel(/Skip invalid records/).check();
    await wide.getByRole('button', { name: 'Upload and import' }).click();
    const bid = await jobIdOf(wide);
    await until('the job to end', async () => {
      const { body } = await api(`/api/jobs/${bid}`, 'alice');
      return body && body.ended;
    });
    const { body } = await api(`/api/jobs/${bid}/records?outcome=invalid`, 'alice');
    const rec = body.records.find((r) => r.key === 'okafor-2025');
    assert.ok(rec && rec.findings.length >= 2, `several findings: ${JSON.stringify(rec)}`);
    const row = wide.locator('#rejected tr[data-key="okafor-2025"]');
    await row.waitFor({ timeout: WAIT });
    assert.equal(await row.locator('li').count(), rec.findings.length, 'every finding is listed');
    assert.doesNotMatch(await row.textContent(), /uploads\/\d+\//, 'file names relative to the upload');
    await shot(wide, 'report-rejected-records');
    await wide.context().close();
  });

  test('an export run from Run a Job downloads its output with the right bytes', async () => {
    const page = await newPage('alice', 1366);
    await login(page, 'alice');
    await nav(page, 'Run a Job').click();
    assert.equal(await page.getByText('Not available yet').count() <= 1, true);
    await shot(page, 'run-a-job');
    await page.getByLabel('Export a collection as a DSpace Simple Archive Format package').check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Collection to export').selectOption(coll);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    const id = await jobIdOf(page);
    await reportStatus(page, 'COMPLETED_SUCCESS');
    const counters = await page.locator('tr[data-counter]').evaluateAll((r) => r.map((x) => x.dataset.counter));
    assert.deepEqual(counters, ['exported', 'bitstreams', 'bytes']);
    const [dl] = await Promise.all([
      page.waitForEvent('download', { timeout: WAIT }),
      page.getByRole('link', { name: /Download output/ }).click(),
    ]);
    assert.equal(dl.suggestedFilename(), `job-${id}-export.zip`);
    const file = join(T, 'export.zip');
    await dl.saveAs(file);
    const got = zipFiles(readFileSync(file));
    const want = new Map(dirEntries(join(REPO, 'exports', String(id))).map((e) => [e.name, e.data]));
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
    for (const [n, data] of want) assert.ok(got.get(n).equals(data), `${n}: the same bytes`);
    await shot(page, 'report-export');
    await page.context().close();
  });

  /* ---- issue 10: search, record view, sets, set jobs, revert, trash ---- */
  let grace, importJob, updateJob;

  test('issue 10: an administrator imports three records', async () => {
    grace = await newPage('grace');
    await login(grace, 'grace');
    importJob = await uploadImport(grace, kestrelZip(join(T, 'kestrels.zip')), { name: 'Kestrel records' });
    await reportStatus(grace, 'COMPLETED_SUCCESS');
    assert.equal(await grace.locator('tr[data-counter="imported"] td').textContent(), '3');
  });

  test('issue 10: the records are found by a fielded query; a malformed query shows where it breaks', async () => {
    await search(grace, 'title:kestrel AND date:2019..2021');
    assert.equal(await searchTotal(grace), 2);
    const titles = await grace.locator('table.hits tbody td.name').allTextContents();
    assert.deepEqual([...titles].sort(), ['Kestrel diet in farmland', 'Kestrel nesting on urban towers']);
    await search(grace, 'title:kestrel');
    assert.equal(await searchTotal(grace), 3);
    assert.match(await grace.locator('.results .total').textContent(), /^3 records found$/);
    await shot(grace, 'search');
    /* an unclosed parenthesis after a non-ASCII letter: the server's message, and the caret
     * under its position (counted in characters) */
    const bad = 'creator:Inès AND (title:kestrel OR date:2021';
    const { status, body } = await apiAny(`/api/items?${new URLSearchParams({ q: bad })}`, 'grace');
    assert.equal(status, 400);
    assert.ok(Number.isInteger(body.position) && body.position >= 1 && body.position <= [...bad].length + 1, JSON.stringify(body));
    await search(grace, bad);
    const box = grace.locator('.results .qerror[role="alert"]');
    await box.waitFor({ timeout: WAIT });
    assert.equal(Number(await box.getAttribute('data-position')), body.position);
    assert.match(await box.textContent(), new RegExp(body.error.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.equal(await box.locator('.marker').textContent(), ' '.repeat(body.position - 1) + '^');
    assert.equal(await box.locator('mark').textContent(), [...bad][body.position - 1] || ' ');
    assert.equal(await grace.getByLabel('Search records').getAttribute('aria-invalid'), 'true');
    await shot(grace, 'search-error');
  });

  test('issue 10: the record view shows a record, the job that made it, and downloads its file with the right bytes', async () => {
    /* from the job's imported records (a search hit opens the same view: the test above) */
    await grace.goto(`${base}/#/jobs/${importJob}/items`);
    const h1 = await handleOf(importJob, 'Kestrel nesting on urban towers');
    await grace.locator('table', { hasText: 'Imported records' }).getByRole('link', { name: h1 }).click();
    await grace.getByRole('heading', { name: 'Kestrel nesting on urban towers' }).waitFor({ timeout: WAIT });
    assert.match(grace.url(), new RegExp(`#/records/${h1}$`));
    assert.match(await grace.locator('table.meta tr[data-field="dc.title"] td').textContent(), /^Kestrel nesting on urban towers$/);
    assert.match(await grace.locator('table.meta tr[data-field="dc.contributor.author"] td').textContent(), /Moreau, Inès/);
    assert.match(await grace.locator('.facts').first().textContent(), /Browser test collection|123456789\//);
    const file = grace.locator('table.files tr[data-file="kestrel-notes.txt"]');
    assert.match(await file.textContent(), /text\/plain/);
    assert.match(await file.textContent(), new RegExp(`${KESTREL_FILE.length} B`));
    const [dl] = await Promise.all([
      grace.waitForEvent('download', { timeout: WAIT }),
      file.getByRole('link', { name: 'Download kestrel-notes.txt' }).click(),
    ]);
    const saved = join(T, 'kestrel-download.txt');
    await dl.saveAs(saved);
    assert.ok(readFileSync(saved).equals(KESTREL_FILE), 'the downloaded file has the imported bytes');
    /* the job that imported it, linked to its report */
    await grace.locator(`table.rjobs tr[data-job="${importJob}"]`).waitFor({ timeout: WAIT });
    assert.match(await grace.locator(`table.rjobs tr[data-job="${importJob}"]`).textContent(), /Kestrel records/);
    await shot(grace, 'record');
    await grace.getByRole('link', { name: `Job ${importJob} report` }).click();
    await reportStatus(grace, 'COMPLETED_SUCCESS');
  });

  test('issue 10: a search hit opens the record view of an Esploro asset: creators with ORCID and affiliation, links, identifiers', async () => {
    /* imported by the Esploro zip test above */
    await search(grace, 'orcid:0000-0002-1825-0097 AND title:"nitrogen retention"');
    assert.ok(await searchTotal(grace) >= 1);
    await grace.locator('table.hits tbody td.name a').first().click();
    await grace.getByRole('heading', { name: 'Nitrogen retention in restored riparian buffers' }).waitFor({ timeout: WAIT });
    const creators = grace.locator('section[aria-labelledby="h-creators"] tbody tr');
    const okafor = creators.filter({ hasText: 'Okafor, Adaeze' });
    assert.equal(await okafor.count(), 1);
    assert.equal(await okafor.getByRole('link', { name: '0000-0002-1825-0097' }).getAttribute('href'), 'https://orcid.org/0000-0002-1825-0097');
    assert.match(await okafor.textContent(), /01EXAMPLE_INST___geo/);
    assert.match(await creators.filter({ hasText: 'Lindqvist, Håkan' }).textContent(), /01EXAMPLE_INST___bio/);
    const link = grace.locator('section[aria-labelledby="h-links"]').getByRole('link', { name: 'Version of record' });
    assert.equal(await link.getAttribute('href'), 'https://doi.org/10.1234/example.2025.008');
    assert.match(await grace.locator('section[aria-labelledby="h-ids"]').textContent(), /10\.1234\/example\.2025\.008/);
    /* the breadcrumb goes back to the results */
    await grace.locator('nav.crumbs').getByRole('link', { name: 'Search' }).click();
    await grace.locator('.results .total').waitFor({ timeout: WAIT });
    assert.equal(await grace.getByLabel('Search records').inputValue(), 'orcid:0000-0002-1825-0097 AND title:"nitrogen retention"');
  });

  test('issue 10: a set from the records a job imported, made on its report', async () => {
    await grace.goto(`${base}/#/jobs/${importJob}`);
    await reportStatus(grace, 'COMPLETED_SUCCESS');
    await grace.getByRole('button', { name: 'Create set from these records' }).click();
    const dlg = grace.getByRole('dialog');
    assert.equal(await dlg.getByLabel(/^Updated \(0\)/).isDisabled(), true, 'no updated records to take');
    await dlg.getByLabel(/^Imported \(3\)/).check();
    await dlg.getByLabel('Set name').fill('kestrel-import');
    await dlg.getByRole('button', { name: 'Create set' }).click();
    await grace.getByRole('heading', { name: 'kestrel-import', exact: true }).waitFor({ timeout: WAIT });
    assert.equal(await grace.locator('.facts .members').getAttribute('data-members'), '3');
    const handles = await grace.locator('table.sample tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.handle).sort());
    const { body } = await apiAny(`/api/items?job=${importJob}`, 'grace');
    assert.deepEqual(handles, body.items.map((x) => x.handle).sort());
    /* a set name is unique: the server's 409 is shown in the dialog, which stays open */
    await grace.goto(`${base}/#/jobs/${importJob}`);
    await reportStatus(grace, 'COMPLETED_SUCCESS');
    await grace.getByRole('button', { name: 'Create set from these records' }).click();
    await dlg.getByLabel('Set name').fill('kestrel-import');
    await dlg.getByRole('button', { name: 'Create set' }).click();
    await dlg.getByRole('alert').waitFor({ timeout: WAIT });
    await dlg.getByRole('button', { name: 'Back' }).click();
    assert.equal(await grace.getByRole('dialog').count(), 0);
  });

  test('issue 10: a search saved as an itemized or a logical set; the Sets page lists them', async () => {
    await search(grace, 'title:kestrel');
    await grace.getByRole('button', { name: 'Save as set' }).click();
    const dlg = grace.getByRole('dialog');
    await dlg.getByLabel('Set name').fill('kestrels');
    await dlg.getByLabel(/^Itemized: the 3 records found now/).check();
    await dlg.getByRole('button', { name: 'Save set' }).click();
    await grace.getByRole('heading', { name: 'kestrels', exact: true }).waitFor({ timeout: WAIT });
    assert.equal(await grace.locator('.facts .members').getAttribute('data-members'), '3');
    assert.equal(await grace.locator('table.sample tbody tr').count(), 3);
    await shot(grace, 'set');
    await search(grace, 'title:kestrel AND date:2019');
    await grace.getByRole('button', { name: 'Save as set' }).click();
    await dlg.getByLabel('Set name').fill('kestrels-2019');
    await dlg.getByLabel(/^Logical/).check();
    await dlg.getByRole('button', { name: 'Save set' }).click();
    await grace.getByRole('heading', { name: 'kestrels-2019', exact: true }).waitFor({ timeout: WAIT });
    assert.equal(await grace.locator('.facts .setquery').textContent(), 'title:kestrel AND date:2019');
    assert.equal(await grace.locator('.facts .members').getAttribute('data-members'), '1');
    await nav(grace, 'Sets').click();
    for (const [name, kind, n] of [['kestrels', 'Itemized', '3'], ['kestrels-2019', 'Logical', '1'], ['kestrel-import', 'Itemized', '3']]) {
      const row = grace.locator(`table.sets tr[data-set="${name}"]`);
      await row.waitFor({ timeout: WAIT });
      const cells = await row.locator('td').allTextContents();
      assert.deepEqual(cells.slice(1, 4), ['Research assets', kind, n]);
    }
    await shot(grace, 'sets');
  });

  test('issue 10: Update Set of Research Assets through the wizard: members and old → new on Review, Confirm, the notice, the records changed', async () => {
    await grace.goto(`${base}/#/run`);
    await grace.getByLabel('Update Set of Research Assets').check();
    await grace.getByRole('button', { name: 'Next' }).click();
    await grace.getByRole('heading', { name: 'Select a set' }).waitFor({ timeout: WAIT });
    assert.equal(await grace.locator('tr[data-set="kestrels-2019"]').count(), 1, 'the sets of research assets are offered');
    await grace.getByLabel('kestrels', { exact: true }).check();
    await grace.getByRole('button', { name: 'Next' }).click();
    await grace.getByRole('heading', { name: 'Enter task parameters' }).waitFor({ timeout: WAIT });
    assert.equal(await grace.locator('.setline').getAttribute('data-members'), '3');
    assert.match(await grace.locator('.setline').textContent(), /kestrels — 3 members/);
    /* a required parameter is enforced before the next step */
    await grace.getByRole('button', { name: 'Next' }).click();
    await grace.getByRole('alert').filter({ hasText: 'is required' }).waitFor({ timeout: WAIT });
    await grace.getByLabel('Operation').selectOption('field-add');
    await grace.getByLabel('Field', { exact: true }).fill('dc.subject');
    await grace.getByLabel('Value', { exact: true }).fill('birds of prey');
    await shot(grace, 'run-set-params');
    await grace.getByRole('button', { name: 'Next' }).click();
    await grace.getByRole('heading', { name: 'Review and confirm' }).waitFor({ timeout: WAIT });
    const rows = grace.locator('table.preview tbody tr');
    await until('the preview of 3 records', async () => (await rows.count()) === 3);
    assert.equal(await grace.locator('.facts .members').getAttribute('data-members'), '3');
    /* each record's values before → after (a field's values joined by " | ") */
    for (const li of await grace.locator('table.preview ul.changes li').allTextContents())
      assert.equal(li, 'dc.subject: ornithology → ornithology | birds of prey');
    assert.equal(await grace.locator('table.preview ul.changes li').count(), 3, 'one change for each record');
    await grace.getByLabel(/Job name/).fill('Tag the kestrels');
    await shot(grace, 'run-set-review');
    /* Back goes one page back and keeps what was entered */
    await grace.getByRole('button', { name: 'Back' }).click();
    assert.equal(await grace.getByLabel('Value', { exact: true }).inputValue(), 'birds of prey');
    await grace.getByRole('button', { name: 'Next' }).click();
    await grace.getByLabel(/Job name/).fill('Tag the kestrels');
    await grace.getByRole('button', { name: 'Submit' }).click();
    const confirm = grace.getByRole('dialog');
    assert.match(await confirm.textContent(), /Tag the kestrels.*3 members.*kestrels/);
    await confirm.getByRole('button', { name: 'Confirm' }).click();
    updateJob = await jobIdOf(grace);
    await reportStatus(grace, 'COMPLETED_SUCCESS');
    assert.match(await grace.locator('.report h1').textContent(), /Tag the kestrels/);
    assert.equal(await grace.locator('tr[data-counter="updated"] td').textContent(), '3');
    await grace.locator('.notice').filter({ hasText: `Job ${updateJob}` }).filter({ hasText: 'Completed Successfully' })
      .waitFor({ timeout: WAIT });
    const h1 = await handleOf(importJob, 'Kestrel nesting on urban towers');
    assert.match(await fieldText(grace, h1, 'dc.subject'), /birds of prey/);
    assert.match(await grace.locator(`table.rjobs tr[data-job="${updateJob}"]`).textContent(), /Tag the kestrels/);
  });

  test('issue 10: Revert shows its dry run, then a revert job puts the records back', async () => {
    await grace.goto(`${base}/#/jobs/${updateJob}`);
    await reportStatus(grace, 'COMPLETED_SUCCESS');
    await grace.getByRole('button', { name: 'Revert' }).click();
    const dlg = grace.getByRole('dialog');
    await dlg.locator('.revert-summary').waitFor({ timeout: WAIT });
    assert.equal(await dlg.locator('.revert-summary').getAttribute('data-total'), '3');
    assert.equal(await dlg.locator('.revert-summary').getAttribute('data-conflicts'), '0');
    assert.equal(await dlg.locator('table.revert tbody tr').count(), 3);
    assert.match(await dlg.locator('table.revert tbody tr').first().textContent(), /Updated/);
    await shot(grace, 'revert');
    await dlg.getByRole('button', { name: 'Revert' }).click();
    await grace.waitForURL((u) => /#\/jobs\/\d+$/.test(u.hash) && !u.hash.endsWith(`/${updateJob}`), { timeout: WAIT });
    const revertJob = await jobIdOf(grace);
    await reportStatus(grace, 'COMPLETED_SUCCESS');
    const { body } = await apiAny(`/api/jobs?limit=500`, 'grace');
    assert.ok(body.jobs.some((j) => j.id === revertJob), 'the revert job is on the monitor');
    const h1 = await handleOf(importJob, 'Kestrel nesting on urban towers');
    assert.doesNotMatch(await fieldText(grace, h1, 'dc.subject'), /birds of prey/);
    assert.match(await fieldText(grace, h1, 'dc.subject'), /ornithology/);
  });

  test('issue 10: Delete Set of Research Assets puts a record in the Trash; Restore brings it back', async () => {
    const h3 = await handleOf(importJob, 'Kestrel migration counts');
    await grace.goto(`${base}/#/sets`);
    await grace.getByRole('button', { name: 'Create a set' }).click();
    const form = grace.getByRole('form', { name: 'Create a set' });
    await form.getByLabel('Name', { exact: true }).fill('kestrel-migration');
    await form.getByLabel('Content type').selectOption('assets');
    await form.getByLabel(/^Itemized/).check();
    await form.getByLabel(/^Members/).fill(h3);
    await form.getByRole('button', { name: 'Create set' }).click();
    await grace.getByRole('heading', { name: 'kestrel-migration', exact: true }).waitFor({ timeout: WAIT });
    assert.equal(await grace.locator('.facts .members').getAttribute('data-members'), '1');
    await grace.getByRole('link', { name: 'Run a job on this set' }).click();
    await grace.getByLabel('Delete Set of Research Assets').check();
    await grace.getByRole('button', { name: 'Next' }).click();
    assert.equal(await grace.getByLabel('kestrel-migration', { exact: true }).isChecked(), true, 'the set is chosen');
    await grace.getByRole('button', { name: 'Next' }).click();
    await grace.getByRole('heading', { name: 'Enter task parameters' }).waitFor({ timeout: WAIT });
    for (const l of ['Do not delete if related to other assets', 'Do not delete if includes a file', 'Do not delete if includes a reserved DOI'])
      assert.equal(await grace.getByLabel(l).isChecked(), false, `${l}: a checkbox, unchecked`);
    await grace.getByRole('button', { name: 'Next' }).click();
    await grace.getByRole('heading', { name: 'Review and confirm' }).waitFor({ timeout: WAIT });
    assert.equal(await grace.locator('.facts .members').getAttribute('data-members'), '1');
    await grace.getByRole('button', { name: 'Submit' }).click();
    await grace.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    await jobIdOf(grace);
    await reportStatus(grace, 'COMPLETED_SUCCESS');
    assert.equal(await grace.locator('tr[data-counter="deleted"] td').textContent(), '1');
    await nav(grace, 'Trash').click();
    const row = grace.locator(`table.trash tr[data-handle="${h3}"]`);
    await row.waitFor({ timeout: WAIT });
    assert.match(await row.textContent(), /Kestrel migration counts/);
    await shot(grace, 'trash');
    await row.getByRole('button', { name: /^Restore/ }).click();
    await grace.locator('.notice').filter({ hasText: 'Restored' }).waitFor({ timeout: WAIT });
    await until('the record to leave the Trash', async () => (await row.count()) === 0);
    await grace.goto(`${base}/#/records/${h3}`);
    await grace.getByRole('heading', { name: 'Kestrel migration counts' }).waitFor({ timeout: WAIT });
    await grace.context().close();
  });

  test('issue 10: a user whose roles do not allow the Run a Job page does not see it; set jobs only for their roles', async () => {
    const bob = await newPage('bob');
    await login(bob, 'bob');
    assert.equal(await nav(bob, 'Run a Job').count(), 0, 'no Run a Job link for bob');
    assert.equal(await nav(bob, 'Search').isVisible(), true);
    await bob.goto(`${base}/#/run`);
    await bob.getByRole('alert').filter({ hasText: 'Your roles do not allow the Run a Job page' }).waitFor({ timeout: WAIT });
    assert.equal(await bob.getByRole('button', { name: 'Next' }).count(), 0);
    await bob.context().close();
    const alice2 = await newPage('alice');
    await login(alice2, 'alice');
    await nav(alice2, 'Run a Job').click();
    await alice2.getByLabel('Export a collection as a DSpace Simple Archive Format package').waitFor({ timeout: WAIT });
    assert.equal(await alice2.getByLabel('Update Set of Research Assets').count(), 0, 'a Repository Manager is not offered update-set');
    /* Cancel drops what was entered and returns home */
    await alice2.getByLabel('Export a collection as a DSpace Simple Archive Format package').check();
    await alice2.getByRole('button', { name: 'Next' }).click();
    await alice2.getByRole('button', { name: 'Cancel' }).click();
    await alice2.getByRole('heading', { name: 'Monitor Jobs' }).waitFor({ timeout: WAIT });
    await alice2.context().close();
  });

  test('issue 10, 390 px: the Search page fits the screen', async () => {
    const page = await newPage('grace', 390);
    await login(page, 'grace');
    await page.goto(`${base}/#/search?q=title%3Akestrel`);
    await page.locator('.results .total').waitFor({ timeout: WAIT });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page is not wider than the screen (${overflow} px over)`);
    await shot(page, 'search');
    await page.context().close();
  });

  test('issue 17: an S/FTP configuration added and tested on its page; a profile that pulls runs from its Job History', async () => {
    /* A real FTP server on loopback (tests/support/ftpd.py: Debian's pyftpdlib) holding one SAF package. */
    const ftpRoot = join(T, 'ftp-root');
    mkdirSync(join(ftpRoot, 'incoming'), { recursive: true });
    safZip(join(ftpRoot, 'incoming', 'batch-1.zip'));
    const portFile = join(T, 'ftpd.port');
    const FTP_PW = 'ftp-Pw-9137-x';
    const ftpd = spawn('/usr/bin/python3', [join(ROOT, 'tests/support/ftpd.py'), '--root', ftpRoot, '--port-file', portFile,
      '--user', 'pub', '--password', FTP_PW], { stdio: ['ignore', 'ignore', openSync(join(T, 'ftpd.log'), 'a')] });
    try {
      const port = await until('the FTP server to listen', () => existsSync(portFile) && readFileSync(portFile, 'utf8').trim(), 15000);
      const grace = await newPage('grace');
      await login(grace, 'grace');
      await nav(grace, 'Profiles').click();
      await grace.getByRole('heading', { name: 'Import profiles' }).waitFor({ timeout: WAIT });
      await grace.getByRole('link', { name: 'S/FTP configurations' }).click();
      await grace.getByRole('button', { name: 'Add a configuration' }).click();
      const form = grace.getByRole('form', { name: 'Add an S/FTP configuration' });
      await form.getByLabel('Name').fill('publisher');
      await form.getByLabel('Server and root folder').fill(`ftp://127.0.0.1:${port}/`);
      await form.getByLabel('User').fill('pub');
      await form.getByLabel('Password', { exact: true }).fill(FTP_PW);
      await form.getByRole('button', { name: 'Save configuration' }).click();
      const row = grace.locator('tr[data-ftp="publisher"]');
      await row.waitFor({ timeout: WAIT });
      assert.match(await row.textContent(), /password/, 'the row says a password is stored');
      await row.getByRole('button', { name: 'Test' }).click();
      await row.locator('[data-test="ok"]').waitFor({ timeout: WAIT });
      assert.match(await row.locator('.test').textContent(), /Connected: 0 files/, 'the root holds only the incoming folder');
      await shot(grace, 'ftp-configs');
      const listed = await apiAny('/api/ftp', 'grace');
      assert.equal(listed.status, 200);
      assert.ok(!JSON.stringify(listed.body).includes(FTP_PW), 'the password is never in an answer');
      assert.ok(!(await grace.content()).includes(FTP_PW), 'nor on the page once saved');
      assert.equal((await apiAny('/api/ftp', 'bob')).status, 403, 'a Researcher Manager may not see S/FTP configurations');

      br(['profile', 'add', 'pubfeed', '--format', 'saf', '--collection', coll, '--ftp', 'publisher', '--remote-dir', 'incoming']);
      await nav(grace, 'Profiles').click();
      await grace.locator('tr[data-profile="pubfeed"]').getByRole('link', { name: 'pubfeed' }).click();
      await grace.getByRole('heading', { name: 'Job History: pubfeed' }).waitFor({ timeout: WAIT });
      const facts = await grace.locator('.facts').first().textContent();
      assert.match(facts, /publisher: \/incoming/, 'the settings at the top name the server and folder');
      await grace.getByRole('button', { name: /Run now/ }).click();
      await grace.locator('.notice').filter({ hasText: /queued/ }).waitFor({ timeout: WAIT });
      /* The fetch job queues one load job; both are in the history, the load job linked to the fetch. */
      const loaded = await until('the load job to complete', async () => {
        const r = await apiAny('/api/profiles/pubfeed', 'grace');
        const jobs = (r.body && r.body.jobs) || [];
        const load = jobs.find((j) => j.parent_job);
        return load && load.status === 'COMPLETED_SUCCESS' && jobs.find((j) => j.id === load.parent_job) && load;
      });
      await until('the history to show both jobs', async () => (await grace.locator('table.jobs tbody tr').count()) === 2);
      assert.doesNotMatch(await grace.locator('main').textContent(), /\bnull\b|\bundefined\b/, 'no empty value written out');
      const loadRow = grace.locator(`tr[data-job="${loaded.id}"]`);
      assert.match(await loadRow.textContent(), new RegExp(`Job ${loaded.parent_job}`), 'the load job names the fetch job');
      assert.match(await grace.locator(`tr[data-job="${loaded.parent_job}"]`).textContent(), /Metadata Import w\/FTP: pubfeed/);
      await shot(grace, 'profile-history');
      await grace.locator(`tr[data-job="${loaded.parent_job}"] a`).first().click();
      await reportStatus(grace, 'COMPLETED_SUCCESS');
      await grace.locator('.facts').getByRole('link', { name: `Job ${loaded.id}` }).waitFor({ timeout: WAIT });
      await grace.context().close();
    } finally {
      ftpd.kill('SIGTERM');
    }
  });

  test('issue 17: an export delivered into my folder from Run a Job is listed and downloads; my notification setting', async () => {
    const page = await newPage('alice', 1366);
    await login(page, 'alice');
    await nav(page, 'Run a Job').click();
    await page.getByLabel('Export a collection as a DSpace Simple Archive Format package').check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Collection to export').selectOption(coll);
    await page.getByLabel('Export into folder').selectOption('ftp');
    await page.getByLabel('FTP configuration').waitFor({ timeout: WAIT });
    await page.getByLabel('Export into folder').selectOption('private');
    assert.equal(await page.getByLabel('FTP configuration').isVisible(), false, 'the S/FTP fields apply only to an S/FTP delivery');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    const id = await jobIdOf(page);
    await reportStatus(page, 'COMPLETED_SUCCESS');
    await page.locator('.facts [data-delivery="delivered"]').waitFor({ timeout: WAIT });
    await nav(page, 'Exports').click();
    const row = page.locator(`tr[data-file="${id}-export.zip"]`);
    await row.waitFor({ timeout: WAIT });
    await shot(page, 'exports');
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: WAIT }), row.getByRole('link').first().click()]);
    const file = join(T, 'delivered.zip');
    await dl.saveAs(file);
    const got = zipFiles(readFileSync(file));
    const want = new Map(dirEntries(join(REPO, 'exports', String(id))).map((e) => [e.name, e.data]));
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
    for (const [n, data] of want) assert.ok(got.get(n).equals(data), `${n}: the same bytes`);
    /* Another user's private folder is not theirs to read. */
    assert.equal((await apiAny(`/api/exports/private/${id}-export.zip`, 'bob')).status >= 403, true);
    await page.getByRole('link', { name: 'alice', exact: true }).click();
    await page.getByRole('heading', { name: 'My settings' }).waitFor({ timeout: WAIT });
    assert.equal(await page.getByLabel('Mail me when my jobs end').isChecked(), false);
    await page.getByLabel('Mail me when my jobs end').check();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor({ timeout: WAIT });
    await until('the setting to be stored', async () => (await apiAny('/api/me', 'alice')).body.notify_jobs === true);
    await page.context().close();
  });

  test('log out returns to the login page and the session is gone', async () => {
    await alice.getByRole('button', { name: 'Log out' }).click();
    await alice.getByRole('heading', { name: 'Log in to bulkrepo' }).waitFor({ timeout: WAIT });
    await alice.goto(`${base}/#/monitor`);
    await alice.getByRole('heading', { name: 'Log in to bulkrepo' }).waitFor({ timeout: WAIT });
    await alice.context().close();
  });

  test('no page error and no Content Security Policy violation', () => {
    assert.deepEqual(errors, []);
  });
});
