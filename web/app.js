/* bulkrepo web UI: one static page, vanilla JS over the REST API (docs/api.md).
 *
 * Served under CSP default-src 'self': no inline scripts or styles, every node is
 * built with the DOM API and every server string goes in through textContent.
 * Views are hash routes:
 *   #/login  #/monitor?tab=&category=&status=&user=&since=  #/jobs/ID  #/jobs/ID/items
 *   #/import  #/run?type=&set=
 * and those the page files register through window.bulkrepo.page() (records.js: #/search,
 * #/records/HANDLE; sets.js: #/sets, #/sets/NAME, #/trash).  index.html loads every file
 * with defer, app.js first: the others use what it exports, and the first route is drawn
 * on DOMContentLoaded, after all of them ran.
 * Every POST carries the X-CSRF-Token that GET /api/me returned. */
'use strict';

(function () {
  const POLL_MS = 2000;
  const MAX_ROWS = 500;          /* jobs searched for a partial user name */
  const JOB_PAGE = 50;           /* monitor rows per page */
  const PAGE = 100;              /* imported records per page */
  const UNIMPORTED_PAGE = 5000;  /* the seed's limit per download */

  /* Statuses of seed 004: code -> label, and whether the job is still active. */
  const STATUSES = [
    ['PENDING', 'Pending', true],
    ['INITIALIZING', 'Initializing', true],
    ['RUNNING', 'Running', true],
    ['FINALIZING', 'Finalizing', true],
    ['MANUAL_HANDLING_REQUIRED', 'Manual Handling Required', true],
    ['COMPLETED_SUCCESS', 'Completed Successfully', false],
    ['COMPLETED_WITH_ERRORS', 'Completed with Errors', false],
    ['COMPLETED_NO_BULKS', 'Completed with No Bulks', false],
    ['FAILED', 'Failed', false],
    ['USER_ABORTED', 'Aborted by User', false],
  ];
  const ACTIVE = new Set(STATUSES.filter((s) => s[2]).map((s) => s[0]));
  const LABEL = Object.fromEntries(STATUSES.map((s) => [s[0], s[1]]));
  const CATEGORIES = [['import', 'Import'], ['export', 'Export'], ['set', 'Set job'], ['revert', 'Revert']];
  /* A set's content type (GET /api/sets, a job type's "content"). */
  const CONTENT = { assets: 'Research assets', researchers: 'Researchers', users: 'Users' };
  /* Seed 001: who may open the Run a Job page at all (which jobs it lists is the
   * server's answer to GET /api/job-types). */
  const RUN_PAGE_ROLES = ['GENERAL_SYSTEM_ADMINISTRATOR', 'REPOSITORY_ADMINISTRATOR', 'REPOSITORY_MANAGER',
    'USER_ADMINISTRATOR', 'USER_MANAGER'];

  /* Report counters (seed 004's report), in its order, by what the job does:
   * only those that apply to the job's type are shown. */
  const COUNTER_LABELS = {
    processed: 'Records processed',
    imported: 'Records imported',
    updated: 'Records updated (overlaid)',
    deleted: 'Records deleted',
    not_imported: 'Records not imported',
    skipped: 'Skipped (already present or matched and left)',
    matched: 'Matched existing records',
    multi_matches: 'Multi-matches found',
    newer_in_repository: 'Newer in the repository (not applied)',
    bitstreams: 'Files (bitstreams)',
    valid: 'Valid records',
    invalid: 'Invalid records',
    exported: 'Records exported',
    failed: 'Records failed',
    bytes: 'Size',
  };
  const COUNTER_SETS = {
    import: ['processed', 'imported', 'updated', 'not_imported', 'skipped', 'matched', 'multi_matches',
      'newer_in_repository', 'bitstreams'],
    validate: ['processed', 'valid', 'invalid', 'bitstreams'],
    delete: ['processed', 'deleted', 'not_imported'],
    export: ['exported', 'bitstreams', 'bytes'],
    set: ['processed', 'updated', 'deleted', 'skipped', 'failed'],
  };
  /* Phases of a job's progress (the engine names them). */
  const PHASES = {
    unpacking: 'Unpacking', validating: 'Validating', validate: 'Validating', writing: 'Writing',
    import: 'Writing', relationships: 'Relationships', finalizing: 'Finalizing', export: 'Exporting',
    exporting: 'Exporting', reading: 'Reading',
  };
  const SEVERITIES = { info: 'Information', warning: 'Warning', error: 'Error', fatal: 'Error' };

  /* Failure classes of a FAILED job (engine.h). */
  const FAILURES = {
    data: 'the input is invalid (fix the file and import it again)',
    io: 'input/output (disk, database); can be rerun',
    interrupted: 'the process was stopped or killed; can be rerun',
    timeout: 'a fetch timed out; can be rerun',
    internal: 'an internal error; can be rerun',
  };

  /* Parameters of a job type, by type then by category; a job type from the
   * server may also bring its own "params" list in the same shape. Later set
   * jobs add theirs here (or serve them) and get a set-selection step. */
  const PARAMS = {
    delete: [
      { name: 'file', label: 'Mapfile of the import to delete', kind: 'file', required: true },
    ],
    validate: [
      { name: 'collection', label: 'Collection', kind: 'collection', required: true },
      { name: 'file', label: 'File', kind: 'file', required: true },
    ],
    import: [
      { name: 'collection', label: 'Collection', kind: 'collection', required: true },
      { name: 'file', label: 'File', kind: 'file', required: true },
      { name: 'validate_only', label: 'Validate only (write nothing)', kind: 'bool' },
      { name: 'skip_invalid', label: 'Skip invalid records (import the valid ones, report the rest)', kind: 'bool' },
    ],
    export: [
      { name: 'collection', label: 'Collection to export', kind: 'collection', required: true },
    ],
    set: [],
  };
  /* The formats (GET /api/formats): each job type's format, what its file
   * looks like, and its import, validation and delete job types. */

  const S = {
    me: null,            /* {username, roles, csrf} */
    jobTypes: null,      /* cached GET /api/job-types */
    formats: null,       /* cached GET /api/formats, by name */
    collections: null,   /* cached GET /api/collections */
    view: null,          /* {refresh()} of the current view, polled */
    timer: 0,
    watch: new Set(JSON.parse(sessionStorage.getItem('bulkrepo.watch') || '[]')),
    users: new Set(),
    wizard: null,
  };
  const $main = document.getElementById('main');
  const PAGES = [];          /* routes of the page files: {re, nav, title(m), view(m, query)} */
  const REPORT_ACTIONS = []; /* their actions on a job report: fn(job, actionsEl, {err, active}) */

  /* ---------- DOM helpers ---------- */

  /* h('a', {href: '#', class: 'x', onclick: fn}, 'text', node, [nodes]) */
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
    append(el, kids);
    return el;
  }
  function append(el, kids) {
    for (const k of kids) {
      if (k === null || k === undefined || k === false) continue;
      if (Array.isArray(k)) append(el, k);
      else el.append(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return el;
  }
  function show(...kids) {
    fill($main, ...kids);
  }
  /* el's children become kids (nested arrays flattened; null, undefined and false left out). */
  function fill(el, ...kids) {
    el.replaceChildren();
    return append(el, kids);
  }
  function fmtTime(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    if (isNaN(d)) return iso;
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }
  function fmtNum(n) {
    return typeof n === 'number' ? n.toLocaleString('en-US') : (n ?? '—');
  }
  function fmtBytes(n) {
    if (typeof n !== 'number') return n ?? '—';
    const u = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return `${i ? n.toFixed(1) : n} ${u[i]}`;
  }
  function fmtDuration(s) {
    if (typeof s !== 'number' || !isFinite(s) || s < 0) return '';
    s = Math.round(s);
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }
  function statusCode(job) {
    const s = job.status;
    return (s && typeof s === 'object' ? s.code : s) || 'PENDING';
  }
  function statusChip(job) {
    const code = statusCode(job);
    const label = (job.status && job.status.label) || LABEL[code] || code;
    return h('span', { class: `status st-${code.toLowerCase().replace(/_/g, '-')}`, 'data-status': code }, label);
  }
  /* {pct, done, total, rate, eta, phase} of the job's progress object. */
  function progressOf(job) {
    const p = (job.progress && typeof job.progress === 'object') ? job.progress : {};
    const total = p.total > 0 ? p.total : undefined;
    const done = typeof p.done === 'number' ? p.done : undefined;
    let pct = Number(p.percent);
    if (!isFinite(pct)) pct = total && done !== undefined ? (100 * done) / total : 0;
    /* 100 % only for a job that ran to its end; a running one never shows 100 %. */
    const code = statusCode(job);
    if (code.startsWith('COMPLETED')) pct = 100;
    else pct = Math.max(0, Math.min(99, Math.floor(pct)));
    return { pct, done, total, rate: p.rate, eta: p.eta_seconds, phase: p.phase };
  }
  function phaseLabel(ph) {
    return ph ? (PHASES[ph] || (ph[0].toUpperCase() + ph.slice(1))) : '';
  }
  function plural(n, one, many) {
    return `${fmtNum(n)} ${n === 1 ? one : (many || one + 's')}`;
  }
  /* "3 processed, 1 not imported": what a job that did not complete got through. */
  function countsText(job) {
    const c = job.counters || {};
    const parts = [];
    if (job.category === 'export') parts.push(`${fmtNum(c.exported || 0)} exported`);
    else {
      parts.push(`${fmtNum(c.processed || 0)} processed`);
      if (c.imported || c.updated) parts.push(`${fmtNum((c.imported || 0) + (c.updated || 0))} imported`);
      if (c.not_imported) parts.push(`${fmtNum(c.not_imported)} not imported`);
    }
    return parts.join(', ');
  }
  /* The progress of a job: a bar while it runs (its phase named), a full bar
   * once it completed, no bar for a job that failed or was aborted. */
  function progressBar(job, wide) {
    const code = statusCode(job);
    const p = progressOf(job);
    const box = h('div', { class: 'progress' + (wide ? ' wide' : ''), 'data-status': code, 'data-phase': p.phase || '' });
    if (code === 'FAILED' || code === 'USER_ABORTED') {
      box.append(h('span', { class: 'ptext pend' }, `${code === 'FAILED' ? 'Failed' : 'Aborted'} · ${countsText(job)}`));
      return box;
    }
    if (code === 'PENDING') {
      box.append(h('span', { class: 'ptext muted' }, 'Waiting in the queue'));
      return box;
    }
    const ended = code.startsWith('COMPLETED');
    let text = `${p.pct}%`;
    if (!ended && p.total > 0) text += ` · ${fmtNum(p.done ?? 0)} of ${fmtNum(p.total)}`;
    if (ended) text += ` · ${countsText(job)}`;
    const ph = phaseLabel(p.phase);
    box.append(h('progress', { max: 100, value: p.pct, 'aria-label': `Progress of job ${job.id}` }, `${p.pct}%`),
      h('span', { class: 'ptext' }, !ended && ph ? `${ph} · ${text}` : text));
    if (wide && !ended) {
      const extra = [];
      if (typeof p.rate === 'number' && p.rate > 0) extra.push(`${fmtNum(Math.round(p.rate))} records/s`);
      if (typeof p.eta === 'number' && p.eta >= 0) extra.push(`${fmtDuration(p.eta)} left`);
      if (extra.length) box.append(h('span', { class: 'ptext muted' }, extra.join(' · ')));
    } else if (wide && ph) {
      box.append(h('span', { class: 'ptext muted' }, `last phase: ${ph}`));
    }
    return box;
  }
  function notice(text, href, kind, linkText) {
    const box = document.getElementById('notices');
    const n = h('div', { class: `notice ${kind || ''}` },
      h('span', {}, text),
      href ? h('a', { href }, linkText || 'View report') : null,
      h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss', onclick: () => n.remove() }, '×'));
    box.append(n);
    setTimeout(() => n.remove(), 20000);
  }
  function errorBox(msg) {
    return h('p', { class: 'error', role: 'alert' }, msg);
  }

  /* ---------- API ---------- */

  /* data: the error's whole JSON answer (a search's "position", …), or null. */
  class ApiError extends Error {
    constructor(status, message, data) { super(message); this.status = status; this.data = data || null; }
  }
  async function api(method, path, body) {
    const opt = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (method !== 'GET' && S.me && S.me.csrf) opt.headers['X-CSRF-Token'] = S.me.csrf;
    if (body instanceof FormData) opt.body = body;
    else if (body !== undefined) {
      opt.headers['Content-Type'] = 'application/json';
      opt.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, opt);
    } catch (e) {
      throw new ApiError(0, 'The server does not answer.');
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!res.ok) {
      const msg = (data && (data.error || data.message)) || `${res.status} ${res.statusText}`;
      if (res.status === 401 && path !== '/api/login') loggedOut();
      throw new ApiError(res.status, typeof msg === 'string' ? msg : JSON.stringify(msg), data);
    }
    return data;
  }
  /* A multipart POST with upload progress (fetch has none). */
  function upload(path, form, onProgress) {
    return new Promise((resolve, reject) => {
      const x = new XMLHttpRequest();
      x.open('POST', path);
      x.setRequestHeader('Accept', 'application/json');
      if (S.me && S.me.csrf) x.setRequestHeader('X-CSRF-Token', S.me.csrf);
      x.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total); };
      x.onerror = () => reject(new ApiError(0, 'The upload failed: the server does not answer.'));
      x.onload = () => {
        let data = null;
        try { data = JSON.parse(x.responseText); } catch (e) { data = null; }
        if (x.status >= 200 && x.status < 300) return resolve(data);
        if (x.status === 401) loggedOut();
        const msg = (data && (data.error || data.message)) ||
          (x.status === 413 ? 'The file is larger than the server accepts.' : `${x.status} ${x.statusText}`);
        reject(new ApiError(x.status, msg));
      };
      x.send(form);
    });
  }
  async function jobTypes() {
    if (!S.jobTypes) {
      const d = await api('GET', '/api/job-types');
      S.jobTypes = (d && d.job_types) || [];
    }
    return S.jobTypes;
  }
  async function formats() {
    if (!S.formats) {
      const d = await api('GET', '/api/formats');
      S.formats = Object.fromEntries(((d && d.formats) || []).map((f) => [f.name, f]));
    }
    return S.formats;
  }
  async function collections() {
    if (!S.collections) {
      const d = await api('GET', '/api/collections');
      const list = (d && (d.collections || d)) || [];
      S.collections = list.filter((c) => !c.type || c.type === 'collection');
    }
    return S.collections;
  }
  function saveWatch() {
    sessionStorage.setItem('bulkrepo.watch', JSON.stringify([...S.watch]));
  }
  function watchJob(id) {
    S.watch.add(Number(id));
    saveWatch();
  }

  /* ---------- session ---------- */

  /* Whether this browser logged in (the session cookie is HttpOnly): without
   * it the page goes to the login form without asking /api/me (no 401 in the console). */
  const SESSION_KEY = 'bulkrepo.session';
  function loggedOut() {
    localStorage.removeItem(SESSION_KEY);
    S.me = null;
    S.jobTypes = S.collections = null;
    document.getElementById('nav').hidden = true;
    document.getElementById('who').hidden = true;
    document.getElementById('menu').hidden = true;
    if (!location.hash.startsWith('#/login')) {
      sessionStorage.setItem('bulkrepo.after', location.hash || '#/monitor');
      location.hash = '#/login';
    }
  }
  /* "REPOSITORY_MANAGER" -> "Repository Manager" (labels pass unchanged). */
  function roleLabel(r) {
    const s = typeof r === 'string' ? r : (r && (r.label || r.code)) || '';
    return /^[A-Z_]+$/.test(s) ? s.toLowerCase().split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join(' ') : s;
  }
  function loggedIn(me) {
    S.me = me;
    localStorage.setItem(SESSION_KEY, '1');
    document.getElementById('nav').hidden = false;
    document.getElementById('who').hidden = false;
    document.getElementById('menu').hidden = false;
    const roles = (me.role_labels || (me.roles || []).map(roleLabel)).join(', ');
    document.getElementById('who-name').textContent = me.username;
    document.querySelector('#nav a[data-nav="run"]').hidden = !mayRunPage();
    document.getElementById('who-name').title = roles ? `Roles: ${roles}` : 'No roles';
  }
  /* On a narrow screen the navigation folds behind a Menu button. */
  const menuBtn = document.getElementById('menu');
  menuBtn.addEventListener('click', () => {
    const open = menuBtn.getAttribute('aria-expanded') !== 'true';
    menuBtn.setAttribute('aria-expanded', String(open));
    document.querySelector('.top').classList.toggle('open', open);
  });
  window.addEventListener('hashchange', () => {
    menuBtn.setAttribute('aria-expanded', 'false');
    document.querySelector('.top').classList.remove('open');
  });
  document.getElementById('logout').addEventListener('click', async () => {
    try { await api('POST', '/api/logout'); } catch (e) { /* logged out either way */ }
    S.watch.clear();
    saveWatch();
    loggedOut();
  });

  function viewLogin() {
    const err = h('div');
    const user = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true });
    const pass = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const btn = h('button', { type: 'submit', class: 'primary' }, 'Log in');
    const form = h('form', { class: 'card login', onsubmit: async (e) => {
      e.preventDefault();
      btn.disabled = true;
      err.replaceChildren();
      try {
        await api('POST', '/api/login', { username: user.value, password: pass.value });
        loggedIn(await api('GET', '/api/me'));
        const after = sessionStorage.getItem('bulkrepo.after');
        sessionStorage.removeItem('bulkrepo.after');
        location.hash = after && !after.startsWith('#/login') ? after : '#/monitor';
      } catch (ex) {
        err.replaceChildren(errorBox(ex.status === 401 ? 'The user name or password is not right.' : ex.message));
        btn.disabled = false;
        pass.select();
      }
    } },
    h('h1', {}, 'Log in to bulkrepo'),
    h('label', { for: 'username' }, 'User name'), user,
    h('label', { for: 'password' }, 'Password'), pass,
    err, btn);
    show(form);
    user.focus();
  }

  /* ---------- Monitor Jobs ---------- */

  function parseQuery(q) {
    return Object.fromEntries(new URLSearchParams(q || ''));
  }
  function viewMonitor(query) {
    const f = {
      tab: query.tab === 'history' ? 'history' : 'running',
      category: query.category || '', status: query.status || '',
      user: query.user || '', since: query.since || '',
      offset: Math.max(0, parseInt(query.offset || '0', 10) || 0),
    };
    const syncHash = () => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(f)) if (v && !(k === 'tab' && v === 'running')) q.set(k, String(v));
      const s = q.toString();
      history.replaceState(null, '', '#/monitor' + (s ? '?' + s : ''));
    };

    const tabRun = h('button', { type: 'button', role: 'tab', id: 'tab-running', 'aria-controls': 'jobs' }, 'Running ', h('span', { class: 'count' }));
    const tabHist = h('button', { type: 'button', role: 'tab', id: 'tab-history', 'aria-controls': 'jobs' }, 'History ', h('span', { class: 'count' }));
    const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Jobs' }, tabRun, tabHist);

    const catSel = h('select', { id: 'f-category', name: 'category' },
      h('option', { value: '' }, 'All categories'),
      CATEGORIES.map(([v, l]) => h('option', { value: v }, l)));
    const statSel = h('select', { id: 'f-status', name: 'status' });
    const userIn = h('input', { id: 'f-user', name: 'user', list: 'f-users', placeholder: 'Any user', autocomplete: 'off', type: 'search' });
    const users = h('datalist', { id: 'f-users' });
    const sinceIn = h('input', { id: 'f-since', name: 'since', type: 'date' });
    const reset = h('button', { type: 'button', class: 'secondary' }, 'Clear filters');
    const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter jobs', onsubmit: (e) => e.preventDefault() },
      h('div', {}, h('label', { for: 'f-category' }, 'Job category'), catSel),
      h('div', {}, h('label', { for: 'f-status' }, 'Status'), statSel),
      h('div', {}, h('label', { for: 'f-user' }, 'User'), userIn, users),
      h('div', {}, h('label', { for: 'f-since' }, 'Submitted since'), sinceIn),
      h('div', { class: 'end' }, reset));

    const tbody = h('tbody');
    const table = h('table', { class: 'jobs', id: 'jobs', role: 'tabpanel' },
      h('caption', { class: 'sr-only' }, 'Jobs'),
      h('thead', {}, h('tr', {},
        ['Job ID', 'Name', 'Category', 'Status', 'User', 'Started', 'Ended', 'Progress']
          .map((t) => h('th', { scope: 'col' }, t)))),
      tbody);
    const empty = h('p', { class: 'empty muted', hidden: true });
    const pager = h('div', { class: 'pager', 'aria-label': 'Pages' });
    const err = h('div');
    const updated = h('span', { class: 'muted small', 'aria-live': 'off' });

    function fillStatuses() {
      const want = f.tab === 'running';
      const opts = STATUSES.filter((s) => s[2] === want);
      if (f.status && !opts.some((s) => s[0] === f.status)) f.status = '';
      statSel.replaceChildren(h('option', { value: '' }, 'All statuses'),
        ...opts.map(([c, l]) => h('option', { value: c }, l)));
      statSel.value = f.status;
    }
    function setTab(t) {
      f.tab = t;
      tabRun.setAttribute('aria-selected', String(t === 'running'));
      tabHist.setAttribute('aria-selected', String(t === 'history'));
      tabRun.tabIndex = t === 'running' ? 0 : -1;
      tabHist.tabIndex = t === 'history' ? 0 : -1;
      table.setAttribute('aria-labelledby', t === 'running' ? 'tab-running' : 'tab-history');
      fillStatuses();
    }
    tabRun.addEventListener('click', () => { setTab('running'); f.offset = 0; syncHash(); refresh(); });
    tabHist.addEventListener('click', () => { setTab('history'); f.offset = 0; syncHash(); refresh(); });
    tabs.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
      const t = f.tab === 'running' ? 'history' : 'running';
      setTab(t); f.offset = 0; syncHash(); refresh();
      (t === 'running' ? tabRun : tabHist).focus();
    });
    const onFilter = () => {
      f.category = catSel.value; f.status = statSel.value;
      f.user = userIn.value.trim(); f.since = sinceIn.value;
      f.offset = 0;
      syncHash(); refresh();
    };
    catSel.addEventListener('change', onFilter);
    statSel.addEventListener('change', onFilter);
    sinceIn.addEventListener('change', onFilter);
    /* The user filter applies as one types (part of a name, any case). */
    let typing = 0;
    userIn.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(onFilter, 200); });
    reset.addEventListener('click', () => {
      f.category = f.status = f.user = f.since = '';
      f.offset = 0;
      catSel.value = userIn.value = sinceIn.value = '';
      fillStatuses(); syncHash(); refresh();
    });
    catSel.value = f.category; userIn.value = f.user; sinceIn.value = f.since;
    setTab(f.tab);

    function sinceIso() {
      if (!f.since) return '';
      const d = new Date(f.since + 'T00:00:00');
      return isNaN(d) ? '' : d.toISOString().replace(/\.\d+Z$/, 'Z');
    }
    function row(j) {
      const code = statusCode(j);
      return h('tr', { 'data-job': j.id, 'data-status': code },
        h('td', {}, h('a', { href: `#/jobs/${j.id}`, 'aria-label': `Job ${j.id} report` }, String(j.id))),
        h('td', { class: 'name' }, h('span', { class: 'cut', title: j.name || j.type || '' }, j.name || j.type || '')),
        h('td', {}, (CATEGORIES.find((c) => c[0] === j.category) || [0, j.category || ''])[1]),
        h('td', {}, statusChip(j)),
        h('td', { class: 'user' }, h('span', { class: 'cut', title: j.submitted_by || '' }, j.submitted_by || '—')),
        h('td', { class: 'time' }, fmtTime(j.started)),
        h('td', { class: 'time' }, fmtTime(j.ended)),
        h('td', {}, progressBar(j, false)));
    }
    /* One page of the tab's jobs from the server (status running / ended, or
     * the status chosen), and the other tab's count.  A user filter matches
     * part of a name in any case: the page is then cut here from the newest
     * MAX_ROWS jobs (the API's user filter is an exact name). */
    async function refresh() {
      const q = new URLSearchParams();
      if (f.category) q.set('category', f.category);
      const since = sinceIso();
      if (since) q.set('since', since);
      const tabStatus = f.tab === 'running' ? 'running' : 'ended';
      const mine = new URLSearchParams(q);
      mine.set('status', f.status || tabStatus);
      const other = new URLSearchParams(q);
      other.set('status', f.tab === 'running' ? 'ended' : 'running');
      const needle = f.user.toLowerCase();
      if (needle) { mine.set('limit', String(MAX_ROWS)); other.set('limit', String(MAX_ROWS)); }
      else { mine.set('limit', String(JOB_PAGE)); mine.set('offset', String(f.offset)); other.set('limit', '0'); }
      let d, d2;
      try {
        [d, d2] = await Promise.all([api('GET', '/api/jobs?' + mine), api('GET', '/api/jobs?' + other)]);
        err.replaceChildren();
      } catch (e) {
        if (e.status !== 401) err.replaceChildren(errorBox(`Could not load the jobs: ${e.message}`));
        return;
      }
      if (!$main.contains(table)) return; /* the view changed meanwhile */
      let jobs = (d && d.jobs) || [];
      let total = (d && d.total) || 0;
      let otherTotal = (d2 && d2.total) || 0;
      for (const j of jobs) if (j.submitted_by) S.users.add(j.submitted_by);
      if (needle) {
        const match = (j) => (j.submitted_by || '').toLowerCase().includes(needle);
        jobs = jobs.filter(match);
        total = jobs.length;
        otherTotal = ((d2 && d2.jobs) || []).filter(match).length;
        jobs = jobs.slice(f.offset, f.offset + JOB_PAGE);
      }
      users.replaceChildren(...[...S.users].sort().map((u) => h('option', { value: u })));
      tabRun.querySelector('.count').textContent = `(${fmtNum(f.tab === 'running' ? total : otherTotal)})`;
      tabHist.querySelector('.count').textContent = `(${fmtNum(f.tab === 'running' ? otherTotal : total)})`;
      tbody.replaceChildren(...jobs.map(row));
      empty.hidden = jobs.length > 0;
      empty.textContent = f.tab === 'running' ? 'No job is running.' : 'No finished jobs match the filters.';
      table.hidden = jobs.length === 0;
      const go = (o) => { f.offset = Math.max(0, o); syncHash(); refresh(); };
      pager.replaceChildren(...[
        f.offset > 0 ? h('button', { type: 'button', class: 'secondary', onclick: () => go(f.offset - JOB_PAGE) }, 'Newer') : null,
        jobs.length ? h('span', { class: 'muted' }, `${fmtNum(f.offset + 1)}–${fmtNum(f.offset + jobs.length)} of ${fmtNum(total)}`) : null,
        f.offset + JOB_PAGE < total ? h('button', { type: 'button', class: 'secondary', onclick: () => go(f.offset + JOB_PAGE) }, 'Older') : null,
      ].filter(Boolean));
      pager.hidden = total <= JOB_PAGE && !f.offset;
      updated.textContent = `Updated ${fmtTime(new Date().toISOString()).slice(11)}`;
    }

    show(h('div', { class: 'head' }, h('h1', {}, 'Monitor Jobs'), updated),
      tabs, filters, err, h('div', { class: 'scroll' }, table), empty, pager);
    S.view = { refresh };
    return refresh();
  }

  /* ---------- Job report ---------- */

  /* An export's delivery step (job.delivery): where, and how it went. */
  function deliveryText(d) {
    const where = d.destination === 'ftp' ? `S/FTP ${d.ftp || ''}${d.subdir ? ` /${d.subdir}` : ''}`
      : d.destination === 'institution' ? 'the institution folder' : 'the submitter\'s private folder';
    const tries = d.attempts > 1 ? ` after ${d.attempts} attempts` : '';
    return h('span', { class: `delivery ${d.state === 'delivered' ? 'ok' : d.state === 'skipped' ? 'muted' : 'error'}`, 'data-delivery': d.state || '' },
      d.state === 'delivered' ? `Delivered to ${where}${tries}${d.path ? ` (${d.path})` : ''}`
        : d.state === 'skipped' ? `Not delivered to ${where}: ${d.error || 'nothing to deliver'}`
        : d.state === 'failed' ? `Delivery to ${where} failed${tries}: ${d.error || 'no reason given'}; the output stays downloadable here`
          : `Delivering to ${where}…`);
  }
  function dl(pairs) {
    return h('dl', { class: 'facts' }, pairs.filter((p) => p[1] !== undefined && p[1] !== null && p[1] !== '')
      .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  }
  /* A table; a column is its heading, or {text, cls}; srCaption: the caption only for
   * screen readers (a heading already names the table). */
  function tableOf(caption, cols, rows, cls, srCaption) {
    return h('table', { class: cls || 'data' },
      h('caption', { class: srCaption ? 'sr-only' : null }, caption),
      h('thead', {}, h('tr', {}, cols.map((c) => (c && typeof c === 'object' && !(c instanceof Node)
        ? h('th', { scope: 'col', class: c.cls }, c.text) : h('th', { scope: 'col' }, c))))),
      h('tbody', {}, rows));
  }
  /* Which counters apply: an export's, a validation's, a delete's or an import's. */
  function counterSet(job) {
    if (job.category === 'export') return COUNTER_SETS.export;
    const t = job.type || '';
    if (job.category === 'set' || t.startsWith('revert')) return COUNTER_SETS.set;
    if (t.startsWith('validate')) return COUNTER_SETS.validate;
    if (t.startsWith('delete')) return COUNTER_SETS.delete;
    return COUNTER_SETS.import;
  }
  function counterRows(job) {
    const c = job.counters || {};
    return counterSet(job).filter((k) => k in c || k === 'newer_in_repository').map((k) => {
      const v = c[k] ?? (k === 'newer_in_repository' ? c.newer : undefined) ?? 0;
      const label = k === 'skipped' && counterSet(job) === COUNTER_SETS.set ? 'Records skipped (left unchanged)' : COUNTER_LABELS[k];
      return h('tr', { 'data-counter': k }, h('th', { scope: 'row' }, label),
        h('td', { class: 'num' }, k === 'bytes' ? fmtBytes(v) : fmtNum(v)));
    });
  }
  /* Paths of the server in a message: "…/uploads/14/bad.csv:M2: error: M2: x"
   * reads "bad.csv:M2: error: x" (relative to the upload, the cell once). */
  function relText(t) {
    return String(t ?? '').replace(/(^|[\s(])(?:[^\s(]*\/)?uploads\/\d+\//g, '$1')
      .replace(/^([^:\s]+):([A-Z]{1,3}\d+): (error|warning|note): \2: /, '$1:$2: $3: ');
  }
  /* Records per second over the job's life: the server's samples when it has
   * them ([{at, done, rate, phase}]), else those this page saw while polling. */
  function rateChart(samples) {
    const pts = samples.filter((x) => typeof x.t === 'number' && typeof x.rate === 'number');
    if (pts.length < 2) return null;
    const W = 480, H = 120, P = 28;
    const t0 = pts[0].t, t1 = pts[pts.length - 1].t || t0 + 1;
    const max = Math.max(1, ...pts.map((x) => x.rate));
    const X = (t) => P + ((t - t0) / Math.max(1, t1 - t0)) * (W - P - 8);
    const Y = (r) => H - 18 - (r / max) * (H - 30);
    const NS = 'http://www.w3.org/2000/svg';
    const el = (tag, attrs, text) => {
      const e = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
      if (text !== undefined) e.textContent = text;
      return e;
    };
    const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
      'aria-label': `Records per second: up to ${Math.round(max)}` });
    svg.append(el('line', { x1: P, y1: H - 18, x2: W - 8, y2: H - 18, class: 'axis' }),
      el('line', { x1: P, y1: 10, x2: P, y2: H - 18, class: 'axis' }),
      el('text', { x: P - 4, y: 16, 'text-anchor': 'end', class: 'tick' }, fmtNum(Math.round(max))),
      el('text', { x: P - 4, y: H - 18, 'text-anchor': 'end', class: 'tick' }, '0'),
      el('text', { x: W - 8, y: H - 4, 'text-anchor': 'end', class: 'tick' }, fmtDuration(t1 - t0)),
      el('polyline', { points: pts.map((x) => `${X(x.t).toFixed(1)},${Y(x.rate).toFixed(1)}`).join(' '), class: 'line' }));
    return svg;
  }

  function viewJob(id) {
    const err = h('div');
    const body = h('div', { class: 'report', 'aria-busy': 'true', 'aria-live': 'off' }, h('p', { class: 'muted' }, 'Loading the report…'));
    show(h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/monitor' }, 'Monitor Jobs'), ' › ', `Job ${id}`),
      err, body);
    let lastCode = null;
    let eventsShown = '';
    const seen = []; /* progress samples seen while this page polls: {t, rate, phase} */
    let recOffset = 0;

    async function action(label, path, confirmText) {
      if (confirmText && !(await confirmDialog(confirmText, label))) return;
      try {
        const r = await api('POST', path);
        const nid = r && (r.id ?? r.job_id);
        if (nid !== undefined && nid !== null) watchJob(nid);
        notice(`${label}: done.`, null);
        if (nid !== undefined && nid !== null && String(nid) !== String(id)) location.hash = `#/jobs/${nid}`;
        else refresh();
      } catch (e) {
        err.replaceChildren(errorBox(`${label} failed: ${e.message}`));
      }
    }

    async function refresh() {
      let job, events = null;
      try {
        job = await api('GET', `/api/jobs/${encodeURIComponent(id)}`);
      } catch (e) {
        if (e.status === 401) return;
        body.setAttribute('aria-busy', 'false');
        body.replaceChildren(errorBox(e.status === 404 ? `There is no job ${id} you may see.` : `Could not load job ${id}: ${e.message}`));
        return;
      }
      try {
        const d = await api('GET', `/api/jobs/${encodeURIComponent(id)}/events`);
        events = (d && (d.events || d)) || [];
      } catch (e) { events = null; }
      if (!$main.contains(body)) return;
      const code = statusCode(job);
      const active = ACTIVE.has(code);
      /* Nothing changed on a finished job: keep the page still (and any open details). */
      const pr = job.progress || {};
      if (active && typeof pr.rate === 'number') seen.push({ t: Date.now() / 1000, rate: pr.rate, phase: pr.phase });
      const sig = JSON.stringify([job, events]);
      if (sig === eventsShown) return;
      eventsShown = sig;
      lastCode = code;
      const c = job.counters || {};
      const notImported = (c.not_imported ?? ((c.invalid || 0) + (c.failed || 0))) || 0;

      const actions = h('div', { class: 'actions', role: 'group', 'aria-label': 'Job actions' });
      if (job.output && job.output.url && job.category !== 'import')
        actions.append(h('a', { class: 'button primary', href: job.output.url, download: job.output.name || '' },
          `Download output (${job.output.name}${typeof job.output.size === 'number' ? `, ${fmtBytes(job.output.size)}` : ''})`));
      if (notImported > 0) {
        const pages = Math.ceil(notImported / UNIMPORTED_PAGE);
        for (let p = 1; p <= Math.min(pages, 20); p++) {
          const href = `/api/jobs/${encodeURIComponent(id)}/unimported` + (pages > 1 ? `?page=${p}` : '');
          const label = pages > 1
            ? `Download unimported records ${fmtNum((p - 1) * UNIMPORTED_PAGE + 1)}–${fmtNum(Math.min(p * UNIMPORTED_PAGE, notImported))}`
            : `Download unimported records (${fmtNum(notImported)})`;
          actions.append(h('a', { class: 'button', href, download: '' }, label));
        }
      }
      if ((c.imported || 0) + (c.updated || 0) > 0)
        actions.append(h('a', { class: 'button secondary', href: `#/jobs/${id}/items` },
          job.category === 'import' ? 'View imported records' : 'View the records it changed'));
      if (code === 'FAILED' && job.failure === 'data')
        actions.append(h('span', { class: 'muted' }, 'The input is invalid: fix the file and import it again (a data error is not rerun).'));
      else if (code === 'FAILED')
        actions.append(h('button', { type: 'button', class: 'primary', onclick: () => action('Rerun', `/api/jobs/${id}/rerun`, `Rerun job ${id} with the same input?`) }, 'Rerun'));
      if (job.category === 'import' && (code === 'USER_ABORTED' || (code === 'FAILED' && job.failure === 'interrupted')))
        actions.append(h('button', { type: 'button', class: 'secondary', onclick: () => action('Resume', `/api/jobs/${id}/resume`, `Resume job ${id}? It imports the records its journal does not have yet.`) }, 'Resume'));
      if (active)
        actions.append(h('button', { type: 'button', class: 'danger', onclick: () => action('Cancel job', `/api/jobs/${id}/cancel`, `Cancel job ${id}? It stops at the next record; what it wrote stays and the job can be resumed.`) }, 'Cancel job'));
      /* The page files' actions (sets.js: Revert, Create set from these records). */
      for (const fn of REPORT_ACTIONS) fn(job, actions, { err, active });

      const files = job.files || [];
      const params = job.parameters || job.params || {};
      const kids = [
        h('div', { class: 'head report-head' },
          h('h1', {}, job.name || `Job ${id}`), statusChip(job)),
        dl([
          ['Job ID', String(job.id)],
          ['Type', job.type],
          ['Category', job.category],
          ['Set', job.set ? h('a', { href: `#/sets/${encodeURIComponent(job.set)}` }, job.set) : ''],
          ['Submitted by', job.submitted_by],
          ['Submitted', job.submitted && fmtTime(job.submitted)],
          ['Started', fmtTime(job.started)],
          ['Ended', job.ended ? fmtTime(job.ended) : (active ? 'still running' : '—')],
          ['Message', job.message],
          ['Failure', job.failure ? (FAILURES[job.failure] || job.failure) : ''],
          ['Rerun of', job.rerun_of ? h('a', { href: `#/jobs/${job.rerun_of}` }, `Job ${job.rerun_of}`) : ''],
          ['Profile', job.profile ? h('a', { href: `#/profiles/${encodeURIComponent(job.profile)}` }, job.profile) : ''],
          ['Queued by', job.parent_job ? h('a', { href: `#/jobs/${job.parent_job}` }, `Job ${job.parent_job}`) : ''],
          ['Load jobs', Array.isArray(job.children) && job.children.length
            ? h('span', {}, job.children.map((c, i) => [i ? ', ' : '', h('a', { href: `#/jobs/${c}` }, `Job ${c}`)])) : ''],
          ['Delivery', job.delivery ? deliveryText(job.delivery) : ''],
        ]),
        progressBar(job, true),
        actions,
        h('section', { 'aria-labelledby': 'h-counters' },
          h('h2', { id: 'h-counters' }, 'Job report'),
          h('table', { class: 'counters' }, h('caption', { class: 'sr-only' }, 'Counters'),
            h('tbody', {}, counterRows(job)))),
      ];
      /* Records per second over the job's life. */
      const samples = Array.isArray(job.samples) ? job.samples.map((x) => ({ t: Date.parse(x.at) / 1000, rate: x.rate, phase: x.phase })) : seen;
      const chart = rateChart(samples);
      const secs = job.started && job.ended ? (Date.parse(job.ended) - Date.parse(job.started)) / 1000 : NaN;
      const n = job.category === 'export' ? c.exported : c.processed;
      kids.push(h('section', { 'aria-labelledby': 'h-rate' }, h('h2', { id: 'h-rate' }, 'Speed'),
        chart || h('p', { class: 'muted' }, secs > 0 && n > 0
          ? `${fmtNum(Math.round(n / secs))} records/s on average (${plural(n, 'record')} in ${fmtDuration(secs)}).`
          : active ? 'Measured while the job runs.' : 'Too quick to measure.')));
      /* a set job or a revert reads no file: no section for it */
      const readsFiles = job.category === 'import' || job.category === 'export' || files.length > 0 || job.input;
      if (readsFiles) kids.push(h('section', { 'aria-labelledby': 'h-files' },
        h('h2', { id: 'h-files' }, 'File details'),
        files.length
          ? tableOf('Input files', ['File', 'Size', 'Created', 'Records', 'Status', 'Problems'],
            files.map((f) => h('tr', {},
              h('td', {}, h('span', { class: 'cut', title: relText(f.name || f.path || '') }, relText(f.name || f.path || ''))), h('td', { class: 'num' }, fmtBytes(f.size)),
              h('td', { class: 'time' }, fmtTime(f.created)), h('td', { class: 'num' }, f.records >= 0 ? fmtNum(f.records) : '—'),
              h('td', {}, f.status && typeof f.status === 'object' ? (f.status.label || f.status.code) : (f.status || '—')),
              h('td', {}, Array.isArray(f.problems) ? (f.problems.length ? f.problems.map((p) => relText(typeof p === 'string' ? p : (p.message || JSON.stringify(p)))).join('; ') : '—') : (typeof f.problems === 'string' ? relText(f.problems) : fmtNum(f.problems))))))
          : h('p', { class: 'muted' }, job.input ? `Input: ${job.input}` : 'No input files.')));
      if (notImported > 0 && job.category !== 'export') {
        const holder = h('div', { id: 'rejected' }, h('p', { class: 'muted' }, 'Loading…'));
        kids.push(h('section', { 'aria-labelledby': 'h-rejected' },
          h('h2', { id: 'h-rejected' }, `Records not imported (${fmtNum(notImported)})`), holder));
        const draw = async () => {
          holder.replaceChildren(await recordsTable(id, job, recOffset, (o) => { recOffset = o; draw(); }));
        };
        draw();
      }
      kids.push(h('section', { 'aria-labelledby': 'h-events' },
        h('h2', { id: 'h-events' }, 'Events'),
        events === null ? h('p', { class: 'muted' }, 'Events are not available.')
          : events.length === 0 ? h('p', { class: 'muted' }, active ? 'No events yet.' : 'This job recorded no events.')
            : tableOf('Job events', ['Date', 'Severity', 'Description', 'Status', 'Module', 'Creator'],
              events.map((e) => h('tr', { class: `sev-${String(e.severity || '').toLowerCase()}` },
                h('td', { class: 'time' }, fmtTime(e.at || e.date || e.time)),
                h('td', {}, SEVERITIES[e.severity] || e.severity || ''),
                h('td', { class: 'msg' }, relText(e.description || e.message || '')),
                h('td', {}, LABEL[e.status] || e.status || ''),
                h('td', {}, e.module || ''), h('td', {}, e.creator || ''))))));
      const pkeys = Object.keys(params);
      if (pkeys.length)
        kids.push(h('details', { class: 'params' }, h('summary', {}, 'Parameters'),
          dl(pkeys.map((k) => [k, typeof params[k] === 'object' ? JSON.stringify(params[k]) : String(params[k])]))));
      body.setAttribute('aria-busy', 'false');
      body.dataset.status = code;
      /* keep the open/closed state of <details> across refreshes */
      const open = [...body.querySelectorAll('details')].map((d) => d.open);
      body.replaceChildren(...kids);
      [...body.querySelectorAll('details')].forEach((d, i) => {
        if (open[i]) d.open = true; /* fires 'toggle', which loads its content */
      });
    }
    S.view = { refresh: () => (lastCode === null || ACTIVE.has(lastCode) ? refresh() : null) };
    return refresh();
  }

  /* Every finding of a record, one a line (the journal keeps them all). */
  function findingsOf(r) {
    const f = Array.isArray(r.findings) && r.findings.length ? r.findings.map((x) => relText(x.text)) : [relText(r.message || '')];
    return h('ul', { class: 'findings' }, f.map((t) => h('li', {}, t)));
  }
  const OUTCOME_LABELS = { invalid: 'Invalid', failed: 'Failed', 'multi-match': 'Multi-match' };
  /* A page of the records not imported (invalid, failed, multi-matches: the
   * API lists one outcome at a time; the counters say how many of each). */
  async function recordsTable(id, job, offset, go) {
    const c = job.counters || {};
    const parts = [['invalid', c.invalid || 0], ['failed', c.failed || 0], ['multi-match', c.multi_matches || 0]];
    const total = parts.reduce((a, p) => a + p[1], 0);
    try {
      const out = [];
      let skip = offset;
      for (const [o, n] of parts) {
        if (out.length >= PAGE) break;
        if (skip >= n) { skip -= n; continue; }
        const d = await api('GET', `/api/jobs/${encodeURIComponent(id)}/records?outcome=${o}&offset=${skip}&limit=${PAGE - out.length}`);
        out.push(...((d && d.records) || []));
        skip = 0;
      }
      const pager = h('div', { class: 'pager' },
        offset > 0 ? h('button', { type: 'button', class: 'secondary', onclick: () => go(Math.max(0, offset - PAGE)) }, 'Previous') : null,
        h('span', { class: 'muted' }, out.length ? `${fmtNum(offset + 1)}–${fmtNum(offset + out.length)} of ${fmtNum(total)}` : ''),
        offset + PAGE < total ? h('button', { type: 'button', class: 'secondary', onclick: () => go(offset + PAGE) }, 'Next') : null);
      return h('div', {},
        h('div', { class: 'scroll' }, tableOf('Records not imported', ['#', 'Record', 'Outcome', 'Why'],
          out.map((r, i) => h('tr', { 'data-key': r.key || '' },
            h('td', { class: 'num' }, fmtNum(offset + i + 1)),
            h('td', { class: 'key' }, h('span', { class: 'cut', title: r.key || '' }, r.key || '')),
            h('td', {}, OUTCOME_LABELS[r.outcome] || r.outcome || ''), h('td', { class: 'msg' }, findingsOf(r)))))),
        total > PAGE ? pager : null);
    } catch (e) {
      return errorBox(`Could not load the records: ${e.message}`);
    }
  }

  /* ---------- imported records of a job ---------- */

  function viewItems(id, query) {
    const offset = Math.max(0, parseInt(query.offset || '0', 10) || 0);
    const holder = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
    show(h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/monitor' }, 'Monitor Jobs'), ' › ',
      h('a', { href: `#/jobs/${id}` }, `Job ${id}`), ' › ', 'Imported records'),
    h('h1', {}, `Records imported by job ${id}`), holder);
    S.view = null;
    return (async () => {
      try {
        const d = await api('GET', `/api/items?job=${encodeURIComponent(id)}&offset=${offset}&limit=${PAGE}`);
        let items = (d && (d.items || d)) || [];
        const paged = items.length <= PAGE && (offset > 0 || (d && d.total !== undefined));
        if (!paged && offset) items = items.slice(offset);
        const shown = items.slice(0, PAGE);
        const total = d && typeof d.total === 'number' ? d.total : (paged ? undefined : items.length + offset);
        const nav = h('div', { class: 'pager' },
          offset > 0 ? h('a', { class: 'button secondary', href: `#/jobs/${id}/items?offset=${Math.max(0, offset - PAGE)}` }, 'Previous') : null,
          h('span', { class: 'muted' }, shown.length ? `${fmtNum(offset + 1)}–${fmtNum(offset + shown.length)}${total !== undefined ? ` of ${fmtNum(total)}` : ''}` : ''),
          items.length > PAGE || (total !== undefined && offset + PAGE < total) ? h('a', { class: 'button secondary', href: `#/jobs/${id}/items?offset=${offset + PAGE}` }, 'Next') : null);
        holder.replaceChildren(shown.length === 0 ? h('p', { class: 'muted' }, 'This job imported no records.')
          : tableOf('Imported records', ['Handle', 'Title', 'Collection', 'Status', 'Modified'],
            shown.map((it) => h('tr', {},
              h('td', {}, h('a', { href: recordHref(it) }, it.handle || it.uuid || '')),
              h('td', {}, it.title || it.name || ''), h('td', {}, it.collection || ''),
              h('td', {}, it.status || ''), h('td', { class: 'time' }, fmtTime(it.modified))))), nav);
      } catch (e) {
        holder.replaceChildren(errorBox(`Could not load the records: ${e.message}`));
      }
    })();
  }

  /* A record's view (#/records/HANDLE, or its UUID when it has no handle) and its API path
   * (a handle keeps its '/': /api/items/123456789/5). */
  function recordHref(it) {
    return `#/records/${it.handle || it.uuid || ''}`;
  }
  function itemPath(handleOrUuid) {
    return '/api/items/' + String(handleOrUuid).split('/').map(encodeURIComponent).join('/');
  }

  /* ---------- parameters, submit: shared by Import and Run a Job ---------- */

  /* Call after formats() has loaded: a format's delete and validation jobs take
   * their own parameters. */
  function paramsFor(jt) {
    const f = formatInfo(jt);
    const base = f && f.delete_job === jt.type ? PARAMS.delete
      : f && f.validate_job === jt.type ? PARAMS.validate : (PARAMS[jt.category] || []);
    if (!Array.isArray(jt.params)) return base;
    /* The server's parameters after the form's own (an export's collection, an import's file). */
    const own = new Set(base.map((p) => p.name));
    return [...base, ...jt.params.filter((p) => !own.has(p.name))];
  }
  function formatOf(jt) {
    return jt.format || '';
  }
  function formatInfo(jt) {
    return (S.formats && S.formats[formatOf(jt)]) || null;
  }
  /* What a job type reads or writes: its format's name ("DSpace Simple Archive Format
   * (zip)") for an import or export, else the content type of the set it runs on
   * ("Research assets"). */
  function contentType(jt) {
    const f = formatInfo(jt);
    if (f && f.label) return f.label;
    if (jt.content) return CONTENT[jt.content] || jt.content;
    return jt.category === 'set' ? 'A set of items' : '—';
  }
  function needsSet(jt) {
    return jt.category === 'set' || jt.needs_set === true;
  }
  /* Imports and exports are submitted as multipart forms (files, a collection); set jobs
   * and reverts as JSON {"type", "set", "params", "name"}. */
  function jsonJob(jt) {
    return jt.category !== 'import' && jt.category !== 'export';
  }
  /* One parameter field: {p, el, input, get(), text(), shown()}; text() is its review
   * line.  A parameter of GET /api/job-types is {name, kind, label, required, default,
   * values, help}: kind bool is a checkbox, enum a select of its values, int a number,
   * text, regex and field a line of text (the import form adds collection and file).  It
   * may also carry "when": {"other": [values]}: it applies (is shown, checked and sent)
   * only while that other parameter has one of those values. */
  async function field(p, jt, prev) {
    const id = `p-${p.name}`;
    const hintId = p.help ? `${id}-help` : null;
    const hint = p.help ? h('p', { class: 'muted small hint', id: hintId }, p.help) : null;
    const label = () => h('label', { for: id, class: p.required ? 'req' : null }, p.label || p.name);
    const wrap = (...kids) => h('div', { class: 'field', 'data-param': p.name }, ...kids);
    let f;
    if (p.kind === 'bool') {
      const box = h('input', { type: 'checkbox', id, name: p.name, 'aria-describedby': hintId });
      box.checked = prev ? prev.checked : !!p.default;
      f = { el: wrap(h('div', { class: 'check' }, box, h('label', { for: id }, p.label || p.name)), hint), input: box,
        get: () => box.checked, text: () => (box.checked ? 'Yes' : 'No') };
    } else if (p.kind === 'collection') {
      const sel = h('select', { id, name: p.name, required: !!p.required });
      const cols = await collections();
      sel.append(h('option', { value: '' }, cols.length ? 'Choose a collection…' : 'There are no collections'),
        ...cols.map((c) => h('option', { value: c.handle }, `${c.name || c.title || c.handle} (${c.handle})`)));
      if (prev) sel.value = prev.value;
      else if (cols.length === 1) sel.value = cols[0].handle;
      f = { el: h('div', {}, label(), sel), input: sel,
        get: () => sel.value, text: () => sel.selectedOptions[0] ? sel.selectedOptions[0].textContent : '' };
    } else if (p.kind === 'file') {
      const fmt = formatInfo(jt);
      /* A format read from one file that names others (an Esploro CSV) takes
       * several files, or a zip of them all; a zip package (SAF) and a mapfile one. */
      const many = !!fmt && fmt.extensions && !/\.zip\b/.test(fmt.extensions) && !(fmt.delete_job === jt.type);
      const accept = fmt ? (many ? null : fmt.accept) : null;
      const inp = prev || h('input', { type: 'file', id, name: p.name, required: !!p.required, accept, multiple: many });
      const hint2 = many ? h('p', { class: 'muted small', id: `${id}-hint` },
        `The ${fmt.label} file and the files it names, or one zip holding them (its folders kept). `
        + `The input is the file ending in ${fmt.extensions}.`) : null;
      if (hint2) inp.setAttribute('aria-describedby', hint2.id);
      const files = () => [...inp.files];
      f = { el: h('div', {}, h('label', { for: id }, p.label + (fmt ? ` — ${fmt.label}` : '')), inp, hint2), input: inp,
        get: () => (inp.files.length ? files() : undefined),
        text: () => files().map((x) => `${x.name} (${fmtBytes(x.size)})`).join(', ') };
    } else if (p.kind === 'enum' || p.kind === 'select') {
      const vals = (p.values || p.options || []).map((v) => (v && typeof v === 'object' ? v : { value: v, label: v }));
      const hasDefault = p.default !== undefined && p.default !== null && p.default !== '';
      const sel = h('select', { id, name: p.name, required: !!p.required, 'aria-describedby': hintId },
        hasDefault ? null : h('option', { value: '' }, p.required ? 'Choose…' : '—'),
        vals.map((v) => h('option', { value: v.value }, v.label ?? v.value)));
      sel.value = prev ? prev.value : (hasDefault ? String(p.default) : '');
      f = { el: wrap(label(), sel, hint), input: sel,
        get: () => sel.value, text: () => (sel.value && sel.selectedOptions[0] ? sel.selectedOptions[0].textContent : '') };
    } else if (p.kind === 'int') {
      /* its range: "values" {min, max} */
      const rg = p.values && typeof p.values === 'object' ? p.values : {};
      const lo = typeof rg.min === 'number' ? rg.min : NaN, hi = typeof rg.max === 'number' ? rg.max : NaN;
      const inp = h('input', { type: 'number', step: 1, id, name: p.name, required: !!p.required, inputmode: 'numeric', 'aria-describedby': hintId,
        min: Number.isSafeInteger(lo) ? lo : null, max: Number.isSafeInteger(hi) ? hi : null });
      inp.value = prev ? prev.value : (p.default ?? '');
      f = { el: wrap(label(), inp, hint), input: inp,
        get: () => (inp.value.trim() === '' ? '' : Number(inp.value)), text: () => inp.value,
        bad: () => {
          const v = inp.value.trim(), n = Number(v), what = p.label || p.name;
          if (v === '') return '';
          if (!Number.isInteger(n)) return `${what} must be a whole number.`;
          if (Number.isSafeInteger(lo) && n < lo) return `${what} must be at least ${lo}.`;
          if (Number.isSafeInteger(hi) && n > hi) return `${what} must be at most ${hi}.`;
          return '';
        } };
    } else {
      /* text, regex, field (schema.element[.qualifier]) */
      const inp = h('input', { id, name: p.name, required: !!p.required, 'aria-describedby': hintId,
        class: p.kind === 'regex' || p.kind === 'field' ? 'mono' : 'long', spellcheck: p.kind === 'text' ? null : 'false',
        placeholder: p.kind === 'field' ? 'schema.element.qualifier' : null, autocomplete: 'off' });
      inp.value = prev ? prev.value : (p.default ?? '');
      f = { el: wrap(label(), inp, hint), input: inp, get: () => inp.value, text: () => inp.value,
        bad: () => {
          if (p.kind !== 'regex' || !inp.value) return '';
          try { new RegExp(inp.value); return ''; } catch (e) { return `${p.label || p.name}: not a regular expression (${e.message}).`; }
        } };
    }
    f.p = p;
    f.shown = () => !f.el.hidden;
    return f;
  }
  /* Shows the fields whose "when" holds (see field()); call again on any change. */
  function applyWhen(fields) {
    const raw = (name) => {
      const o = fields.find((x) => x.p.name === name);
      if (!o || !o.shown()) return undefined;
      return o.p.kind === 'bool' ? String(o.input.checked) : o.input.value;
    };
    /* twice: a field may depend on one that another "when" hides */
    for (let pass = 0; pass < 2; pass++)
      for (const f of fields) {
        const w = f.p.when;
        if (!w || typeof w !== 'object') continue;
        f.el.hidden = !Object.entries(w).every(([k, vals]) =>
          (Array.isArray(vals) ? vals : [vals]).map(String).includes(raw(k)));
      }
  }
  function watchWhen(fields) {
    applyWhen(fields);
    if (!fields.some((f) => f.p.when)) return;
    for (const f of fields) {
      f.input.addEventListener('change', () => applyWhen(fields));
      f.input.addEventListener('input', () => applyWhen(fields));
    }
  }
  /* A set job's parameters as JSON: the fields that apply, empty optional ones left out. */
  function paramValues(fields) {
    const o = {};
    for (const f of fields) {
      if (!f.shown()) continue;
      const v = f.get();
      if (f.p.kind === 'bool') o[f.p.name] = !!v;
      else if (v !== '' && v !== undefined && v !== null) o[f.p.name] = v;
    }
    return o;
  }
  function formOf(jt, fields, name, setId) {
    const fd = new FormData();
    const vo = fields.find((f) => f.p.name === 'validate_only');
    let type = jt.type;
    /* A validate-only run is its format's validation job type when it has one. */
    const f = formatInfo(jt);
    if (vo && vo.get() && f && f.validate_job && S.jobTypes && S.jobTypes.some((t) => t.type === f.validate_job))
      type = f.validate_job;
    fd.append('type', type);
    if (jt.category === 'import') fd.append('format', formatOf(jt));
    if (jt.category === 'export') {
      const c = fields.find((f) => f.p.name === 'collection');
      if (c) { fd.append('scope', 'collection'); fd.append('id', c.get()); }
    }
    if (name) fd.append('name', name);
    if (setId) fd.append('set', setId);
    let files = [];
    for (const f of fields) {
      const v = f.get();
      if (f.p.kind === 'file') { files = v || []; continue; }
      if (f.p.kind === 'bool') fd.append(f.p.name, v ? 'true' : 'false');
      else if (v !== '' && v !== undefined) fd.append(f.p.name, v);
    }
    /* The files go last (fields first, then the stream), the input first. */
    const exts = ((f && f.extensions) || '').split(/,\s*/).filter(Boolean).map((e) => e.toLowerCase());
    const isInput = (x) => exts.some((e) => x.name.toLowerCase().endsWith(e));
    for (const x of [...files.filter(isInput), ...files.filter((x) => !isInput(x))]) fd.append('file', x, x.name);
    return fd;
  }
  /* The first field that applies and is missing or malformed: {f, msg}, or null. */
  function invalidField(fields) {
    for (const f of fields) {
      if (f.shown && !f.shown()) continue;
      const v = f.get();
      if (f.p.required && (v === '' || v === undefined || v === null)) return { f, msg: `${f.p.label || f.p.name} is required.` };
      const bad = f.bad && f.bad();
      if (bad) return { f, msg: bad };
    }
    return null;
  }
  /* The id of the job an answer created: {"job": {...}}, or {"id"} / {"job_id"}. */
  function newJobId(r) {
    const id = r && ((r.job && r.job.id) ?? r.id ?? r.job_id);
    if (id === undefined || id === null) throw new ApiError(0, 'The server did not say which job it created.');
    return id;
  }
  async function submit(jt, fields, name, setId, bar, err) {
    err.replaceChildren();
    bar.hidden = false;
    bar.value = 0;
    const form = formOf(jt, fields, name, setId);
    let size = 0;
    for (const [, v] of form.entries()) if (v instanceof File) size += v.size;
    const label = bar.nextElementSibling && bar.nextElementSibling.classList.contains('uptext') ? bar.nextElementSibling : null;
    if (label) { label.hidden = false; label.textContent = size ? `Uploading 0 of ${fmtBytes(size)}` : 'Sending'; }
    try {
      const r = await upload('/api/jobs', form, (x) => {
        bar.value = Math.round(x * 100);
        if (label && size) label.textContent = x >= 1 ? `Uploaded ${fmtBytes(size)}; starting the job…` : `Uploading ${fmtBytes(Math.round(x * size))} of ${fmtBytes(size)} (${Math.round(x * 100)}%)`;
      });
      const id = newJobId(r);
      watchJob(id);
      location.hash = `#/jobs/${id}`;
    } catch (e) {
      bar.hidden = true;
      if (label) label.hidden = true;
      err.replaceChildren(errorBox(e.status === 403 ? 'Your roles do not allow this job.' : e.message));
    }
  }
  /* A modal dialog: a title, body nodes, Back and an OK button (a form's submit, so a
   * required input inside is checked first).  onOk (may be async) runs on OK and returns
   * false to keep the dialog open (it showed its own error).  Resolves true when OK closed
   * it, false for Back or Escape. */
  let dialogs = 0;
  const openDialogs = new Set(); /* their close(false): a navigation closes them */
  function dialog({ title, body, ok = 'Confirm', okClass = 'primary', onOk, wide }) {
    return new Promise((resolve) => {
      const tid = `dlg-${++dialogs}`;
      const okB = h('button', { type: 'submit', class: okClass, value: 'ok' }, ok);
      const no = h('button', { type: 'button', class: 'secondary', value: 'no' }, 'Back');
      const form = h('form', {},
        title ? h('h2', { id: tid, class: 'dlg-title' }, title) : null,
        title ? body : h('div', { id: tid }, body),
        h('div', { class: 'actions' }, no, okB));
      const d = h('dialog', { class: 'confirm' + (wide ? ' wide' : ''), 'aria-labelledby': tid }, form);
      const close = (v) => { openDialogs.delete(close); d.close(); d.remove(); resolve(v); };
      openDialogs.add(close);
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        okB.disabled = true;
        let done = true;
        try { if (onOk) done = await onOk(); } finally { okB.disabled = false; }
        if (done !== false && openDialogs.has(close)) close(true);
      });
      no.addEventListener('click', () => close(false));
      d.addEventListener('cancel', (e) => { e.preventDefault(); close(false); });
      document.body.append(d);
      d.showModal();
      const first = form.querySelector('input:not([type=hidden]), select, textarea');
      (first || okB).focus();
    });
  }
  function confirmDialog(text, okLabel) {
    return dialog({ body: h('p', {}, text), ok: okLabel || 'Confirm' });
  }

  /* ---------- Import ---------- */

  async function viewImport() {
    S.view = null;
    show(h('h1', {}, 'Import'), h('p', { class: 'muted' }, 'Loading…'));
    let types;
    try {
      const fmts = await formats();
      types = (await jobTypes()).filter((t) => t.category === 'import' && fmts[t.format] && fmts[t.format].import_job === t.type);
      await collections();
    } catch (e) {
      if (e.status !== 401) show(h('h1', {}, 'Import'), errorBox(e.message));
      return;
    }
    if (!types.length) {
      show(h('h1', {}, 'Import'), h('p', {}, 'Your roles do not allow any import. A Repository Manager or Administrator can run imports.'));
      return;
    }
    const usable = types.filter((t) => t.implemented !== false);
    const radios = types.filter((t) => t.implemented !== false).map((t) => {
      const id = `fmt-${t.type}`;
      const r = h('input', { type: 'radio', name: 'type', id, value: t.type, disabled: t.implemented === false });
      const fmt = formatInfo(t);
      return h('div', { class: 'check' }, r,
        h('label', { for: id }, (fmt && fmt.label) || t.label || t.type, t.implemented === false ? h('span', { class: 'muted' }, ' — not available yet') : null));
    });
    const fmtSet = h('fieldset', {}, h('legend', {}, 'Format'), radios);
    const holder = h('div', { class: 'fields' });
    const name = h('input', { id: 'job-name', name: 'name', class: 'long', placeholder: 'Default: the job type\'s name', maxlength: 255 });
    const bar = h('progress', { max: 100, value: 0, hidden: true, 'aria-label': 'Upload progress' });
    const uptext = h('span', { class: 'uptext muted small', hidden: true, 'aria-live': 'polite' });
    const err = h('div');
    const btn = h('button', { type: 'submit', class: 'primary' }, 'Upload and import');
    let jt = usable[0];
    let fields = [];
    async function build() {
      const prev = Object.fromEntries(fields.map((f) => [f.p.name, f.input]));
      fields = [];
      for (const p of paramsFor(jt)) fields.push(await field(p, jt, prev[p.name] && p.kind !== 'file' ? prev[p.name] : null));
      holder.replaceChildren(...fields.map((f) => f.el));
      const vo = fields.find((f) => f.p.name === 'validate_only');
      const label = () => { btn.textContent = vo && vo.get() ? 'Upload and validate' : 'Upload and import'; };
      if (vo) vo.input.addEventListener('change', label);
      label();
    }
    fmtSet.addEventListener('change', async (e) => {
      jt = types.find((t) => t.type === e.target.value) || jt;
      await build();
    });
    const form = h('form', { class: 'card wide', onsubmit: async (e) => {
      e.preventDefault();
      const bad = invalidField(fields);
      if (bad) { err.replaceChildren(errorBox(bad.msg)); bad.f.input.focus(); return; }
      btn.disabled = true;
      await submit(jt, fields, name.value.trim(), null, bar, err);
      btn.disabled = false;
    } },
    fmtSet, holder,
    h('div', {}, h('label', { for: 'job-name' }, 'Job name (optional)'), name),
    err, h('div', { class: 'actions' }, btn, bar, uptext));
    show(h('h1', {}, 'Import'),
      h('p', { class: 'muted' }, 'The whole file is validated first; the report names the place of every problem.'), form);
    if (jt) form.querySelector(`input[value="${CSS.escape(jt.type)}"]`).checked = true;
    await build();
  }

  /* ---------- Run a Job (seed 001): select -> [set] -> parameters -> review ---------- */

  /* A job type's description, unless it only repeats its name. */
  function describe(jt) {
    const d = (jt.description || '').trim();
    return d && d.replace(/\.$/, '') !== (jt.label || '').replace(/\.$/, '') ? d : '';
  }
  function mayRunPage() {
    return !!S.me && (S.me.roles || []).some((r) => RUN_PAGE_ROLES.includes(r));
  }
  function setPath(name) {
    return `/api/sets/${encodeURIComponent(name)}`;
  }
  function countText(n) {
    return typeof n === 'number' && n >= 0 ? plural(n, 'member') : 'counted when the job runs';
  }
  /* "dc.subject: (none) → birds" */
  function changeText(c) {
    const v = (x) => (x === null || x === undefined || x === '' ? '(none)' : String(x));
    return `${c.field}: ${v(c.old)} → ${v(c.new)}`;
  }
  /* The Review step's dry run (POST /api/jobs/preview): what the job would change in the
   * set's first records, "field: old → new" each. */
  function previewTable(pv) {
    const rows = (pv.changes || []).map((r) => h('tr', { 'data-handle': r.handle || '' },
      h('td', { class: 'handle' }, h('a', { href: recordHref(r), target: '_blank', rel: 'noopener' }, r.handle || '')),
      h('td', { class: 'title' }, r.title || ''),
      h('td', { class: 'msg changes' }, r.skip
        ? h('span', { class: 'skipped' }, `Left unchanged: ${r.skip}`)
        : (r.changes || []).length
          ? h('ul', { class: 'changes' }, r.changes.map((c) => h('li', {}, changeText(c))))
          : h('span', { class: 'muted' }, 'No change'))));
    const shown = (pv.changes || []).length;
    return h('div', {},
      h('div', { class: 'scroll' }, tableOf('Changes', ['Record', 'Title', 'Changes'], rows, 'data preview', true)),
      pv.truncated || shown < (pv.members || 0)
        ? h('p', { class: 'muted small' }, `The first ${fmtNum(shown)} of ${plural(pv.members, 'member')}; the job applies the same to every member.`)
        : null);
  }

  async function viewRun(query) {
    S.view = null;
    if (!mayRunPage()) {
      show(h('h1', {}, 'Run a Job'), h('p', { role: 'alert' }, 'Your roles do not allow the Run a Job page. '
        + 'A General System Administrator, Repository Administrator, Repository Manager, User Administrator or User Manager can run jobs.'));
      return;
    }
    show(h('h1', {}, 'Run a Job'), h('p', { class: 'muted' }, 'Loading…'));
    let types;
    try {
      await formats();
      types = (await jobTypes()).filter((t) => t.allowed !== false);
    } catch (e) {
      if (e.status !== 401) show(h('h1', {}, 'Run a Job'), errorBox(e.message));
      return;
    }
    /* set: the chosen set's name; count: its members (GET /api/sets/NAME); preview: the
     * Review step's dry run. */
    const W = S.wizard = { jt: types.find((t) => t.type === query.type && t.implemented !== false) || null,
      step: 'select', fields: [], set: query.set || '', count: null, preview: null };
    const steps = () => ['select', ...(W.jt && needsSet(W.jt) ? ['set'] : []),
      ...(!W.jt || paramsFor(W.jt).length ? ['params'] : []), 'review'];
    const TITLES = { select: 'Select a job to run', set: 'Select a set', params: 'Enter task parameters', review: 'Review and confirm' };
    const go = async (step) => { W.step = step; await draw(); };
    const next = () => go(steps()[steps().indexOf(W.step) + 1]);
    const back = () => go(steps()[steps().indexOf(W.step) - 1]);
    const cancel = () => { S.wizard = null; location.hash = '#/monitor'; };
    const nav = (...btns) => h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'link', onclick: cancel }, 'Cancel'),
      W.step !== 'select' ? h('button', { type: 'button', class: 'secondary', onclick: back }, 'Back') : null, btns);
    /* "Set: NAME — 3 members" (seed 001: on the parameters and the review step). */
    const setLine = () => (W.jt && needsSet(W.jt) ? h('p', { class: 'setline', 'data-members': W.count ?? '' },
      'Set ', h('strong', {}, W.set), ` — ${countText(W.count)}`) : null);

    async function draw() {
      if (S.wizard !== W || !location.hash.startsWith('#/run')) return;
      const list = steps();
      const crumbs = h('ol', { class: 'steps', 'aria-label': 'Steps' }, list.map((s) =>
        h('li', { class: s === W.step ? 'current' : '', 'aria-current': s === W.step ? 'step' : null }, TITLES[s])));
      const err = h('div');
      let body;
      if (W.step === 'select') {
        if (!types.length) {
          show(h('h1', {}, 'Run a Job'), h('p', {}, 'Your roles do not allow any job.'));
          return;
        }
        const later = types.filter((t) => t.implemented === false);
        const rows = types.filter((t) => t.implemented !== false).map((t) => {
          const id = `jt-${t.type}`;
          const r = h('input', { type: 'radio', name: 'jobtype', id, value: t.type });
          r.checked = W.jt === t;
          return h('tr', { class: 'pick', 'data-type': t.type, onclick: (e) => { if (e.target !== r) r.checked = true; } },
            h('td', {}, r),
            h('td', {}, h('label', { for: id }, t.label || t.type)),
            h('td', { class: 'desc hide-narrow' }, describe(t)),
            h('td', {}, contentType(t)),
            h('td', { class: 'hide-narrow' }, (CATEGORIES.find((c) => c[0] === t.category) || [0, t.category])[1],
              h('div', {}, h('code', { class: 'muted' }, t.type))));
        });
        const tbl = h('table', { class: 'data select' }, h('caption', { class: 'sr-only' }, 'Jobs you may run'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Select')),
            h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col', class: 'hide-narrow' }, 'Description'),
            h('th', { scope: 'col' }, 'Content type'),
            h('th', { scope: 'col', class: 'hide-narrow' }, 'Type'))),
          h('tbody', {}, rows));
        const soon = later.length ? h('details', { class: 'later' },
          h('summary', {}, `Not available yet (${later.length})`),
          h('ul', {}, later.map((t) => h('li', { class: 'muted' }, t.label || t.type)))) : null;
        body = h('form', { onsubmit: (e) => {
          e.preventDefault();
          const sel = tbl.querySelector('input:checked');
          if (!sel) { err.replaceChildren(errorBox('Select a job.')); return; }
          const jt = types.find((t) => t.type === sel.value);
          if (W.jt !== jt) { W.jt = jt; W.fields = []; W.preview = null; }
          next();
        } }, h('div', { class: 'scroll' }, tbl), soon, err, nav(h('button', { type: 'submit', class: 'primary' }, 'Next')));
      } else if (W.step === 'set') {
        let sets;
        try {
          const d = await api('GET', '/api/sets');
          sets = ((d && d.sets) || []).filter((x) => !W.jt.content || x.content === W.jt.content);
        } catch (e) {
          if (e.status === 401) return;
          sets = null;
          err.replaceChildren(errorBox(`Could not load the sets: ${e.message}`));
        }
        if (S.wizard !== W || W.step !== 'set') return;
        const what = W.jt.content ? (CONTENT[W.jt.content] || W.jt.content).toLowerCase() : 'records';
        const rows = (sets || []).map((x) => {
          const id = `set-${x.name}`;
          const r = h('input', { type: 'radio', name: 'set', id, value: x.name });
          r.checked = x.name === W.set;
          return h('tr', { class: 'pick', 'data-set': x.name, onclick: (e) => { if (e.target !== r) r.checked = true; } },
            h('td', {}, r), h('td', {}, h('label', { for: id }, x.name)),
            h('td', {}, x.kind === 'logical' ? 'Logical (query)' : 'Itemized'),
            h('td', { class: 'num' }, typeof x.members === 'number' && x.members >= 0 ? fmtNum(x.members) : '—'),
            h('td', { class: 'hide-narrow' }, x.kind === 'logical' ? h('code', {}, x.query || '') : (x.note || '')),
            h('td', { class: 'time hide-narrow' }, fmtTime(x.created)));
        });
        const tbl = h('table', { class: 'data select' }, h('caption', { class: 'sr-only' }, 'Sets'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Select')),
            ['Set', 'Kind', 'Members'].map((c) => h('th', { scope: 'col' }, c)),
            ['Query or note', 'Created'].map((c) => h('th', { scope: 'col', class: 'hide-narrow' }, c)))),
          h('tbody', {}, rows));
        body = h('form', { onsubmit: async (e) => {
          e.preventDefault();
          const sel = tbl.querySelector('input:checked');
          if (!sel) { err.replaceChildren(errorBox('Select a set.')); return; }
          try {
            const d = await api('GET', setPath(sel.value));
            const st = (d && d.set) || {};
            W.count = typeof st.members === 'number' && st.members >= 0 ? st.members : null;
          } catch (ex) {
            err.replaceChildren(errorBox(ex.status === 404 ? `The set ${sel.value} no longer exists.` : `Could not count the set: ${ex.message}`));
            return;
          }
          if (W.set !== sel.value) W.preview = null;
          W.set = sel.value;
          next();
        } },
        sets && sets.length ? h('div', { class: 'scroll' }, tbl)
          : sets ? h('p', {}, `There is no set of ${what} yet. `, h('a', { href: '#/sets' }, 'Create one on the Sets page'),
            ' or save a search as a set.') : null,
        err, nav(h('button', { type: 'submit', class: 'primary', disabled: !(sets && sets.length) }, 'Next')));
      } else if (W.step === 'params') {
        const prev = Object.fromEntries(W.fields.map((f) => [f.p.name, f.input]));
        const fields = [];
        for (const p of paramsFor(W.jt)) fields.push(await field(p, W.jt, prev[p.name]));
        body = h('form', { novalidate: true, onchange: () => err.replaceChildren(), onsubmit: (e) => {
          e.preventDefault();
          const bad = invalidField(fields);
          if (bad) { err.replaceChildren(errorBox(bad.msg)); bad.f.input.focus(); return; }
          W.fields = fields;
          W.preview = null;
          next();
        } }, setLine(), h('div', { class: 'fields grid' }, fields.map((f) => f.el)), err,
        nav(h('button', { type: 'submit', class: 'primary' }, 'Next')));
        watchWhen(fields);
      } else {
        body = reviewStep(err);
      }
      show(h('h1', {}, 'Run a Job'), crumbs, h('h2', {}, TITLES[W.step]), h('div', { class: 'card wider' }, body));
      if (W.step === 'review' && needsSet(W.jt) && !W.preview) loadPreview();
    }

    /* Review and confirm: the job, the set and its member count, the parameters, the
     * dry run's changes (set jobs), an optional name; Submit asks to confirm. */
    const previewBox = h('section', { class: 'preview', 'aria-labelledby': 'h-preview', 'aria-live': 'polite' });
    let previews = 0; /* the latest preview asked for wins (Back and Next may overtake one) */
    async function loadPreview() {
      const mine = ++previews;
      const stale = () => S.wizard !== W || W.step !== 'review' || previews !== mine;
      previewBox.replaceChildren(h('h3', { id: 'h-preview' }, 'What the job changes'), h('p', { class: 'muted' }, 'Computing the changes…'));
      let pv;
      try {
        pv = await api('POST', '/api/jobs/preview', { type: W.jt.type, set: W.set, params: paramValues(W.fields) });
      } catch (e) {
        if (stale()) return;
        previewBox.replaceChildren(h('h3', { id: 'h-preview' }, 'What the job changes'),
          errorBox(`No preview: ${e.message}`));
        return;
      }
      if (stale()) return;
      W.preview = pv;
      if (typeof pv.members === 'number') W.count = pv.members;
      /* in place: a name being typed stays */
      for (const el of $main.querySelectorAll('.members[data-members]')) {
        el.dataset.members = W.count ?? '';
        el.textContent = countText(W.count);
      }
      previewBox.replaceChildren(h('h3', { id: 'h-preview' }, 'What the job changes'), previewTable(pv));
    }
    function reviewStep(err) {
      const name = h('input', { id: 'job-name', name: 'name', class: 'long', placeholder: W.jt.label || W.jt.type, title: W.jt.label || W.jt.type, maxlength: 255 });
      const bar = h('progress', { max: 100, value: 0, hidden: true, 'aria-label': 'Upload progress' });
      const uptext = h('span', { class: 'uptext muted small', hidden: true, 'aria-live': 'polite' });
      const btn = h('button', { type: 'submit', class: 'primary' }, 'Submit');
      const isSet = needsSet(W.jt);
      if (isSet) {
        previewBox.replaceChildren(h('h3', { id: 'h-preview' }, 'What the job changes'),
          W.preview ? previewTable(W.preview) : h('p', { class: 'muted' }, 'Computing the changes…'));
      }
      return h('form', { onsubmit: async (e) => {
        e.preventDefault();
        const label = name.value.trim() || W.jt.label || W.jt.type;
        const what = isSet ? ` on the ${countText(W.count)} of set ${W.set}` : '';
        if (!(await confirmDialog(`Run "${label}"${what} now?`, 'Confirm'))) return;
        btn.disabled = true;
        if (jsonJob(W.jt)) await submitJson(name.value.trim(), err);
        else await submit(W.jt, W.fields, name.value.trim(), W.set, bar, err);
        btn.disabled = false;
      } },
      dl([['Job', W.jt.label || W.jt.type], ['Content type', contentType(W.jt)],
        isSet ? ['Set', W.set] : null,
        isSet ? ['Members', h('span', { class: 'members', 'data-members': W.count ?? '' }, countText(W.count))] : null,
        ...reviewParams()].filter(Boolean)),
      isSet ? previewBox : null,
      h('div', {}, h('label', { for: 'job-name' }, 'Job name (optional, replaces the default)'), name),
      err, nav(btn, bar, uptext));
    }
    /* The parameters as the Review step lists them: those given a value other than their
     * default (a set job's long list of options would bury them), and the required ones. */
    function reviewParams() {
      const own = new Set(['collection', 'file']);
      const given = W.fields.filter((f) => f.shown() && (f.p.required || own.has(f.p.kind)
        || String(f.get() ?? '') !== String(f.p.default ?? (f.p.kind === 'bool' ? false : ''))));
      if (!given.length && W.fields.length) return [['Parameters', 'all at their defaults']];
      return given.map((f) => [f.p.label || f.p.name, f.text()]);
    }
    /* A set job or a revert: POST /api/jobs with JSON; then its monitor page. */
    async function submitJson(name, err) {
      err.replaceChildren();
      const body = { type: W.jt.type, params: paramValues(W.fields) };
      if (needsSet(W.jt)) body.set = W.set;
      if (name) body.name = name;
      try {
        const id = newJobId(await api('POST', '/api/jobs', body));
        watchJob(id);
        S.wizard = null;
        location.hash = `#/jobs/${id}`;
      } catch (e) {
        err.replaceChildren(errorBox(e.status === 403 ? 'Your roles do not allow this job.'
          : e.status === 404 ? `The set ${W.set} no longer exists.` : e.message));
      }
    }
    await draw();
  }

  /* ---------- notices: jobs this user started that have finished ---------- */

  async function checkNotices() {
    if (!S.me || S.watch.size === 0) return;
    let d;
    try { d = await api('GET', `/api/jobs?user=${encodeURIComponent(S.me.username)}`); } catch (e) { return; }
    const byId = new Map(((d && d.jobs) || []).map((j) => [Number(j.id), j]));
    for (const id of [...S.watch]) {
      const j = byId.get(id);
      if (!j) continue;
      const code = statusCode(j);
      if (ACTIVE.has(code)) continue;
      S.watch.delete(id);
      const label = (j.status && j.status.label) || LABEL[code] || code;
      const kind = code === 'COMPLETED_SUCCESS' ? 'ok' : code === 'FAILED' ? 'bad' : 'warn';
      notice(`Job ${id} (${j.name || j.type}) ended: ${label}.`, `#/jobs/${id}`, kind);
    }
    saveWatch();
  }

  /* ---------- router and polling ---------- */

  function setNav(name) {
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.nav === name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }
  async function route() {
    const hash = location.hash || '#/monitor';
    const [path, q] = hash.slice(1).split('?');
    const query = parseQuery(q);
    S.view = null;
    for (const close of [...openDialogs]) close(false);
    if (path === '/login') { setNav(''); document.title = 'Log in · bulkrepo'; return viewLogin(); }
    if (!S.me && !localStorage.getItem(SESSION_KEY)) { loggedOut(); return; }
    if (!S.me) {
      try {
        loggedIn(await api('GET', '/api/me'));
      } catch (e) {
        if (e.status !== 401) show(errorBox(`bulkrepo's server does not answer (${e.message}). Reload the page to try again.`));
        return;
      }
    }
    let m;
    if ((m = path.match(/^\/jobs\/(\d+)\/items$/))) { setNav('monitor'); document.title = `Job ${m[1]} records · bulkrepo`; return viewItems(m[1], query); }
    if ((m = path.match(/^\/jobs\/(\d+)$/))) { setNav('monitor'); document.title = `Job ${m[1]} · bulkrepo`; return viewJob(m[1]); }
    if (path === '/import') { setNav('import'); document.title = 'Import · bulkrepo'; return viewImport(); }
    if (path === '/run') { setNav('run'); document.title = 'Run a Job · bulkrepo'; return viewRun(query); }
    for (const pg of PAGES) {
      if (!(m = path.match(pg.re))) continue;
      setNav(pg.nav);
      document.title = `${pg.title(m)} · bulkrepo`;
      return pg.view(m, query);
    }
    setNav('monitor');
    document.title = 'Monitor Jobs · bulkrepo';
    return viewMonitor(query);
  }
  async function tick() {
    try {
      if (S.me && !document.hidden) {
        if (S.view) await S.view.refresh();
        await checkNotices();
      }
    } finally {
      S.timer = setTimeout(tick, POLL_MS);
    }
  }
  window.addEventListener('hashchange', () => { route().then(() => $main.focus({ preventScroll: true })); });
  document.addEventListener('DOMContentLoaded', () => {
    route();
    S.timer = setTimeout(tick, POLL_MS);
  });

  /* ---------- for the page files (records.js, sets.js) ---------- */

  window.bulkrepo = Object.freeze({
    h, append, fill, show, api, ApiError, errorBox, notice, dialog, confirmDialog, dl, tableOf,
    fmtTime, fmtNum, fmtBytes, plural, statusChip, watchJob, newJobId, recordHref, itemPath, setPath,
    mayRunPage, CONTENT, ACTIVE, statusCode,
    main: $main,
    /* page(/^\/path$/, navName, (match) => title, (match, query) => view): a hash route */
    page: (re, nav, title, view) => { PAGES.push({ re, nav, title, view }); },
    /* reportAction((job, actionsEl, {err, active}) => …): adds to every job report's actions */
    reportAction: (fn) => { REPORT_ACTIONS.push(fn); },
    /* setView(refresh) polls the current view every POLL_MS (null: none) */
    setView: (refresh) => { S.view = refresh ? { refresh } : null; },
  });
})();
