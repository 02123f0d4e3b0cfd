/* bulkrepo web UI: delivery both ways (issue 17), on app.js's helpers (window.bulkrepo).
 * Routes:
 *   #/profiles        GET /api/profiles: the import profiles (drop folders and those that pull
 *                     from an S/FTP server)
 *   #/profiles/NAME   the profile's Job History (seed 004): its settings at the top, its jobs
 *                     below (GET /api/profiles/NAME), and Run (POST /api/profiles/NAME/run)
 *   #/ftp             S/FTP configurations: GET /api/ftp, add (POST /api/ftp), test
 *                     (POST /api/ftp/NAME/test), remove (DELETE /api/ftp/NAME); secrets are
 *                     sent, never shown (the server never returns them)
 *   #/exports         the export folders: private (mine) and institution
 *                     (GET /api/exports?folder=…, files from /api/exports/FOLDER/NAME)
 *   #/settings        my settings: mail me when my jobs end (POST /api/me/settings) */
'use strict';

(function () {
  const B = window.bulkrepo;
  const { h, api, show, errorBox, dl, tableOf, fmtTime, fmtNum, fmtBytes, statusChip } = B;
  const enc = encodeURIComponent;
  const profileHref = (name) => `#/profiles/${enc(name)}`;
  const crumbs = (...parts) => h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, ...parts);
  /* A load failure as the user should read it (401 sends to the login page by itself). */
  const loadError = (e, what, denied) =>
    e.status === 401 ? null : errorBox(e.status === 403 ? denied : `Could not load ${what}: ${e.message}`);

  /* ---------- Import profiles ---------- */

  function sourceOf(p) {
    if (p.ftp) return `${p.ftp}:${p.remote_dir ? ` /${p.remote_dir}` : ' (its root)'}${p.pattern ? ` · ${p.pattern}` : ''}`;
    return `Drop folder ${p.inbox}`;
  }
  function afterOf(p) {
    const a = p.after_fetch || 'leave';
    if (a === 'leave') return 'Left on the server (each file is loaded once)';
    if (a === 'delete') return 'Deleted from the server';
    if (a.startsWith('move:')) return `Moved on the server to ${a.slice(5)}`;
    return a;
  }

  async function viewProfiles() {
    B.setView(null);
    const holder = h('div', {}, h('p', { class: 'muted' }, 'Loading the profiles…'));
    show(h('h1', {}, 'Import profiles'),
      h('p', { class: 'muted' }, 'A profile loads the files dropped in its folder, or fetches them from an S/FTP server ',
        'on its schedule or when you run it (', h('a', { href: '#/ftp' }, 'S/FTP configurations'), ').'),
      holder);
    let list;
    try {
      list = ((await api('GET', '/api/profiles')) || {}).profiles || [];
    } catch (e) {
      holder.replaceChildren(loadError(e, 'the profiles', 'Your roles do not allow seeing import profiles.') || '');
      return;
    }
    holder.replaceChildren(list.length
      ? h('div', { class: 'scroll' }, tableOf('Import profiles', ['Name', 'Format', 'Collection', 'Files from', 'Schedule', 'Next run'],
        list.map((p) => h('tr', { 'data-profile': p.name },
          h('td', { class: 'name' }, h('a', { href: profileHref(p.name) }, p.name)),
          h('td', { class: 'nowrap' }, p.format || ''),
          h('td', { class: 'nowrap' }, p.collection || ''),
          h('td', {}, h('span', { class: 'cut', title: sourceOf(p) }, sourceOf(p))),
          h('td', { class: 'nowrap' }, p.schedule || (p.ftp ? 'On demand' : 'Watched')),
          h('td', { class: 'time' }, p.next_run ? fmtTime(p.next_run) : '—'))), 'data profiles'))
      : h('p', { class: 'empty muted' }, 'There are no import profiles yet (bulkrepo profile add).'));
  }

  function countersText(j) {
    const c = j.counters || {};
    const parts = [];
    for (const [k, label] of [['processed', 'processed'], ['imported', 'imported'], ['updated', 'updated'],
      ['deleted', 'deleted'], ['not_imported', 'not imported']])
      if (typeof c[k] === 'number' && (c[k] || k === 'processed')) parts.push(`${fmtNum(c[k])} ${label}`);
    return parts.join(', ');
  }

  async function viewProfile(m) {
    const name = decodeURIComponent(m[1]);
    const err = h('div');
    const body = h('div', {}, h('p', { class: 'muted' }, 'Loading the profile…'));
    show(crumbs(h('a', { href: '#/profiles' }, 'Import profiles'), ' › ', name), err, body);
    async function load() {
      let d;
      try {
        d = await api('GET', `/api/profiles/${enc(name)}?limit=50`);
      } catch (e) {
        body.replaceChildren(e.status === 404 ? errorBox(`There is no profile ${name}.`)
          : loadError(e, 'the profile', 'Your roles do not allow seeing this profile.') || '');
        return;
      }
      const p = (d && d.profile) || {};
      const jobs = (d && d.jobs) || [];
      const run = h('button', { type: 'button', class: 'primary', onclick: async () => {
        run.disabled = true;
        err.replaceChildren();
        try {
          const id = B.newJobId(await api('POST', `/api/profiles/${enc(name)}/run`));
          B.notice(`Job ${id} queued: ${p.ftp ? 'fetching the files of' : 'scanning'} ${name}.`, `#/jobs/${id}`, 'ok');
          await load();
        } catch (e) {
          err.replaceChildren(errorBox(e.status === 403 ? 'Your roles do not allow running this profile.' : `Could not run the profile: ${e.message}`));
        } finally {
          run.disabled = false;
        }
      } }, p.ftp ? 'Run now (fetch from the server)' : 'Run now');
      /* fill, not replaceChildren: a null child (no "latest N of M" line) is left out, not written "null". */
      B.fill(body,
        h('div', { class: 'head' }, h('h1', {}, `Job History: ${p.name || name}`)),
        h('section', { class: 'card wide', 'aria-label': 'Profile settings' },
          h('h2', { class: 'first' }, 'Profile'),
          dl([
            ['Name', p.name],
            ['Format', p.format],
            ['Collection', p.collection],
            ['Files from', sourceOf(p)],
            ['After fetching', p.ftp ? afterOf(p) : ''],
            ['Schedule', p.schedule ? `${p.schedule} (UTC)` : (p.ftp ? 'On demand only' : 'The folder is watched')],
            ['Next run', p.next_run ? fmtTime(p.next_run) : ''],
            ['Local folder', p.inbox],
            ['Submitted as', p.eperson],
            ['Created', fmtTime(p.created)],
          ]),
          h('div', { class: 'actions' }, run)),
        h('h2', {}, 'Jobs'),
        jobs.length
          ? h('div', { class: 'scroll' }, tableOf('The profile\'s jobs', ['ID', 'Job', 'Status', 'Submitted', 'Ended', 'Records', 'Queued by'],
            jobs.map((j) => h('tr', { 'data-job': j.id },
              h('td', {}, h('a', { href: `#/jobs/${j.id}`, 'aria-label': `Job ${j.id} report` }, String(j.id))),
              h('td', {}, h('span', { class: 'cut', title: j.name || '' }, j.name || j.type || '')),
              h('td', { class: 'nowrap' }, statusChip(j)),
              h('td', { class: 'time' }, fmtTime(j.submitted)),
              h('td', { class: 'time' }, fmtTime(j.ended)),
              h('td', {}, countersText(j)),
              h('td', { class: 'nowrap' }, j.parent_job ? h('a', { href: `#/jobs/${j.parent_job}` }, `Job ${j.parent_job}`) : '—'))),
            'data jobs'))
          : h('p', { class: 'empty muted' }, 'This profile has not run yet.'),
        typeof d.total === 'number' && d.total > jobs.length
          ? h('p', { class: 'muted small' }, `The latest ${jobs.length} of ${fmtNum(d.total)} jobs.`) : null);
    }
    await load();
    B.setView(load);
  }

  /* ---------- S/FTP configurations ---------- */

  function ftpForm(done) {
    const err = h('div');
    const inp = (id, attrs) => h('input', { id, name: id.replace(/^ftp-/, ''), autocomplete: 'off', ...attrs });
    const name = inp('ftp-name', { required: true, maxlength: 63 });
    const url = inp('ftp-url', { required: true, class: 'long', placeholder: 'sftp://sftp.publisher.example:22/outgoing' });
    const user = inp('ftp-user', { required: true });
    const password = inp('ftp-password', { type: 'password', autocomplete: 'new-password' });
    const key = h('textarea', { id: 'ftp-key', name: 'private_key', rows: 4, class: 'long', spellcheck: 'false',
      placeholder: '-----BEGIN OPENSSH PRIVATE KEY-----' });
    const passive = h('input', { type: 'checkbox', id: 'ftp-passive', checked: true });
    const ca = inp('ftp-ca', { class: 'long', placeholder: '/etc/ssl/certs/publisher-ca.pem' });
    const btn = h('button', { type: 'submit', class: 'primary' }, 'Save configuration');
    return h('form', { class: 'card wide', 'aria-label': 'Add an S/FTP configuration', onsubmit: async (e) => {
      e.preventDefault();
      err.replaceChildren();
      const body = { name: name.value.trim(), url: url.value.trim(), user: user.value.trim(), passive: passive.checked };
      if (password.value) body.password = password.value;
      if (key.value.trim()) body.private_key = key.value;
      if (ca.value.trim()) body.ca_file = ca.value.trim();
      btn.disabled = true;
      try {
        await api('POST', '/api/ftp', body);
        password.value = '';
        key.value = '';
        done(body.name);
      } catch (ex) {
        err.replaceChildren(errorBox(ex.status === 403 ? 'Your roles do not allow managing S/FTP configurations.' : ex.message));
      } finally {
        btn.disabled = false;
      }
    } },
    h('h2', { class: 'first' }, 'Add an S/FTP configuration'),
    h('label', { for: 'ftp-name' }, 'Name'), name,
    h('label', { for: 'ftp-url' }, 'Server and root folder'), url,
    h('p', { class: 'muted small hint' }, 'ftp://, ftps:// (FTP with explicit TLS) or sftp://, the host, an optional port and the folder that is the root of everything this configuration reads and writes. No user or password in the address.'),
    h('label', { for: 'ftp-user' }, 'User'), user,
    h('label', { for: 'ftp-password' }, 'Password'), password,
    h('label', { for: 'ftp-key' }, 'Private key (SFTP, instead of a password)'), key,
    h('p', { class: 'muted small hint' }, 'Stored encrypted with the repository\'s key and never shown again.'),
    h('div', { class: 'check' }, passive, h('label', { for: 'ftp-passive' }, 'Passive mode (FTP)')),
    h('label', { for: 'ftp-ca' }, 'CA certificate file (FTPS, when the server\'s is not in the system\'s store)'), ca,
    err, h('div', { class: 'actions' }, btn));
  }

  async function viewFtp() {
    B.setView(null);
    const err = h('div');
    const holder = h('div', {}, h('p', { class: 'muted' }, 'Loading the configurations…'));
    const form = ftpForm(() => { form.hidden = true; load(); B.notice('S/FTP configuration saved.', null, 'ok'); });
    form.hidden = true;
    const add = h('button', { type: 'button', class: 'primary', 'aria-expanded': 'false', onclick: () => {
      form.hidden = !form.hidden;
      add.setAttribute('aria-expanded', String(!form.hidden));
      if (!form.hidden) form.querySelector('input').focus();
    } }, 'Add a configuration');
    show(crumbs(h('a', { href: '#/profiles' }, 'Import profiles'), ' › ', 'S/FTP configurations'),
      h('h1', {}, 'S/FTP configurations'),
      h('p', { class: 'muted' }, 'The servers import profiles fetch files from and exports are delivered to.'),
      h('div', { class: 'actions' }, add), form, err, holder);
    async function test(c, cell, accept) {
      cell.replaceChildren(h('span', { class: 'muted' }, 'Testing…'));
      try {
        const r = await api('POST', `/api/ftp/${enc(c.name)}/test`, accept ? { accept_host_key: true } : {});
        cell.replaceChildren(h('span', { class: 'ok', 'data-test': 'ok' }, `Connected: ${B.plural(r.files || 0, 'file')} in the root folder`));
      } catch (e) {
        const unknownKey = /unknown host key/i.test(e.message || '');
        cell.replaceChildren(h('span', { class: 'error', 'data-test': 'failed' }, e.message),
          unknownKey ? h('button', { type: 'button', class: 'link', onclick: async () => {
            if (await B.confirmDialog(`Trust the host key ${c.name}'s server shows now and pin it? Do this only when you know the key is the server's.`, 'Trust and test'))
              test(c, cell, true);
          } }, 'Trust this host key') : null);
      }
    }
    async function load() {
      let list;
      try {
        list = ((await api('GET', '/api/ftp')) || {}).configs || [];
      } catch (e) {
        holder.replaceChildren(loadError(e, 'the configurations', 'Your roles do not allow managing S/FTP configurations.') || '');
        return;
      }
      holder.replaceChildren(list.length
        ? h('div', { class: 'scroll' }, tableOf('S/FTP configurations', ['Name', 'Server', 'User', 'Sign-in', 'Updated', 'Test', ''],
          list.map((c) => {
            const cell = h('td', { class: 'test' });
            return h('tr', { 'data-ftp': c.name },
              h('td', { class: 'name' }, c.name),
              h('td', {}, h('span', { class: 'cut', title: c.url }, c.url)),
              h('td', { class: 'nowrap' }, c.user || ''),
              h('td', { class: 'nowrap' }, [c.has_password ? 'password' : null, c.has_key ? 'key' : null].filter(Boolean).join(' + ') || 'none'),
              h('td', { class: 'time' }, fmtTime(c.updated)),
              cell,
              h('td', { class: 'nowrap' },
                h('button', { type: 'button', class: 'secondary', onclick: () => test(c, cell, false) }, 'Test'),
                ' ',
                h('button', { type: 'button', class: 'danger', onclick: async () => {
                  if (!(await B.confirmDialog(`Remove the S/FTP configuration ${c.name}?`, 'Remove'))) return;
                  err.replaceChildren();
                  try {
                    await api('DELETE', `/api/ftp/${enc(c.name)}`);
                    load();
                  } catch (e) {
                    err.replaceChildren(errorBox(`Could not remove ${c.name}: ${e.message}`));
                  }
                } }, 'Remove')));
          }), 'data ftp'))
        : h('p', { class: 'empty muted' }, 'There are no S/FTP configurations yet.'));
    }
    await load();
  }

  /* ---------- Export folders ---------- */

  async function viewExports(m, query) {
    B.setView(null);
    const folder = query && query.folder === 'institution' ? 'institution' : 'private';
    const tab = (f, label) => h('a', { href: `#/exports?folder=${f}`, role: 'tab', 'aria-selected': String(f === folder) }, label);
    const holder = h('div', {}, h('p', { class: 'muted' }, 'Loading the files…'));
    show(h('h1', {}, 'Exports'),
      h('p', { class: 'muted' }, 'The files export jobs delivered into a folder: your private folder, or the institution\'s, which the roles that see exports share.'),
      h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Export folders' }, tab('private', 'My folder'), tab('institution', 'Institution folder')),
      holder);
    let files;
    try {
      files = ((await api('GET', `/api/exports?folder=${folder}`)) || {}).files || [];
    } catch (e) {
      holder.replaceChildren(loadError(e, 'the folder', 'Your roles do not allow seeing this folder.') || '');
      return;
    }
    holder.replaceChildren(files.length
      ? h('div', { class: 'scroll' }, tableOf(folder === 'institution' ? 'Institution folder' : 'My folder', ['File', 'Size', 'Delivered', 'Job'],
        files.map((f) => h('tr', { 'data-file': f.name },
          h('td', { class: 'name' }, h('a', { href: `/api/exports/${folder}/${enc(f.name)}`, download: f.name }, f.name)),
          h('td', { class: 'num' }, fmtBytes(f.size)),
          h('td', { class: 'time' }, fmtTime(f.modified)),
          h('td', { class: 'nowrap' }, f.job_id ? h('a', { href: `#/jobs/${f.job_id}` }, `Job ${f.job_id}`) : '—'))), 'data exports'))
      : h('p', { class: 'empty muted' }, 'No export was delivered here yet.'));
  }

  /* ---------- My settings ---------- */

  async function viewSettings() {
    B.setView(null);
    const err = h('div');
    const holder = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
    show(h('h1', {}, 'My settings'), err, holder);
    let me;
    try {
      me = await api('GET', '/api/me');
    } catch (e) {
      holder.replaceChildren(loadError(e, 'your settings', '') || '');
      return;
    }
    const box = h('input', { type: 'checkbox', id: 'notify-jobs', checked: !!me.notify_jobs });
    const state = h('span', { class: 'muted small', role: 'status' });
    box.addEventListener('change', async () => {
      box.disabled = true;
      err.replaceChildren();
      try {
        await api('POST', '/api/me/settings', { notify_jobs: box.checked });
        state.textContent = box.checked ? 'Saved: you will get a mail when a job of yours ends.' : 'Saved: no mail when your jobs end.';
      } catch (e) {
        box.checked = !box.checked;
        err.replaceChildren(errorBox(`Could not save: ${e.message}`));
      } finally {
        box.disabled = false;
      }
    });
    holder.replaceChildren(h('section', { class: 'card wide', 'aria-label': 'Notifications' },
      h('h2', { class: 'first' }, 'Notifications'),
      h('div', { class: 'check' }, box, h('label', { for: 'notify-jobs' }, 'Mail me when my jobs end')),
      h('p', { class: 'muted small hint' }, me.email ? `Sent to ${me.email}, with the job's counts and a link to its report.`
        : 'Sent to your account\'s mail address, with the job\'s counts and a link to its report.'),
      state));
  }

  B.page(/^\/profiles$/, 'profiles', () => 'Import profiles', viewProfiles);
  B.page(/^\/profiles\/(.+)$/, 'profiles', (m) => `Job History: ${decodeURIComponent(m[1])}`, viewProfile);
  B.page(/^\/ftp$/, 'profiles', () => 'S/FTP configurations', viewFtp);
  B.page(/^\/exports$/, 'exports', () => 'Exports', viewExports);
  B.page(/^\/settings$/, 'settings', () => 'My settings', viewSettings);
})();
