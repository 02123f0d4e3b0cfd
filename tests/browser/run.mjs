/* Browser tests of bulkrepo's web UI (issue 4, "Tests"): playwright-core drives
 * Debian's headless Chromium against a real `bulkrepo serve` on a free loopback
 * port, over a temporary repository with one collection and two users:
 *   alice  Repository Manager (may run imports and exports)
 *   bob    Researcher Manager (may run no import or export job)
 * Flows: log in; upload a SAF zip and watch it reach Completed Successfully on
 * the monitor page; open its report and its imported records; upload an invalid
 * package and download its unimported records; make an export fail for a
 * non-data reason and rerun it from its report; check bob sees none of alice's
 * jobs; log out.  No fixed sleeps: every wait is for a condition, with a timeout.
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
import { dirEntries, zipBuffer, zipNames } from './zip.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const BIN = resolve(process.env.BULKREPO_BIN || join(ROOT, 'build/bulkrepo'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT = 30000; /* the longest any condition may take */
const PASSWORD = { alice: 'alice-secret-42', bob: 'bob-secret-42' };

const T = mkdtempSync(join(tmpdir(), 'bulkrepo-browser-'));
const REPO = join(T, 'repo');
let server, base, browser, coll;
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
async function newPage(user) {
  const ctx = await browser.newContext({ acceptDownloads: true, viewport: { width: 1366, height: 800 } });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(`${user}: page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) errors.push(`${user}: ${m.text()}`);
  });
  return page;
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
  await page.getByRole('radio', { name: 'DSpace Simple Archive Format (zip)' }).check();
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

before(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build it first (make)`);
  br(['init']);
  coll = br(['collection', 'create', 'Browser test collection']);
  br(['user', 'add', 'alice', '--role', 'REPOSITORY_MANAGER', '--password-stdin'], PASSWORD.alice + '\n');
  br(['user', 'add', 'bob', '--role', 'RESEARCHER_MANAGER', '--password-stdin'], PASSWORD.bob + '\n');
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
    await alice.getByText(/Records not imported \(1\)/).click();
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
