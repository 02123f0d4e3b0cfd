/* bulkrepo web UI: sets, the Trash, and the job report's set actions (issue 10), on
 * app.js's helpers (window.bulkrepo).  Routes:
 *   #/sets          GET /api/sets; create one (POST /api/sets)
 *   #/sets/NAME     GET /api/sets/NAME: count, sample, query; members; delete
 *   #/trash         GET /api/trash; restore (POST /api/trash/UUID/restore)
 * On a job report: "Create set from these records" (POST /api/sets with from_job) and
 * "Revert" (POST /api/jobs/ID/revert: a dry run shown first, then the revert job). */
'use strict';

(function () {
  const B = window.bulkrepo;
  const { h, api, show, errorBox, dl, tableOf, fmtTime, fmtNum, plural } = B;
  const CONTENT = B.CONTENT;
  const setHref = (name) => `#/sets/${encodeURIComponent(name)}`;
  const count = (n) => (typeof n === 'number' && n >= 0 ? fmtNum(n) : '—');
  const kindLabel = (s) => (s.kind === 'logical' ? 'Logical' : 'Itemized');
  /* handles or UUIDs, one a line (or separated by spaces or commas) */
  const memberList = (text) => text.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);

  /* ---------- Sets ---------- */

  function createForm(done) {
    const err = h('div');
    const name = h('input', { id: 'new-name', name: 'name', required: true, maxlength: 127, autocomplete: 'off' });
    const content = h('select', { id: 'new-content', name: 'content' },
      Object.entries(CONTENT).map(([v, l]) => h('option', { value: v }, l)));
    const logical = h('input', { type: 'radio', name: 'kind', id: 'new-logical', value: 'logical', checked: true });
    const itemized = h('input', { type: 'radio', name: 'kind', id: 'new-itemized', value: 'itemized' });
    const query = h('input', { id: 'new-query', name: 'query', class: 'long query', spellcheck: 'false', autocomplete: 'off',
      placeholder: 'title:"soil carbon" AND date:2019..2024' });
    const members = h('textarea', { id: 'new-members', name: 'members', rows: 5, class: 'long', spellcheck: 'false',
      placeholder: '123456789/4\n123456789/5' });
    const qBox = h('div', {}, h('label', { for: 'new-query' }, 'Query'), query,
      h('p', { class: 'muted small' }, 'In the Search page\'s language; ', h('a', { href: '#/search' }, 'try it there first'), '.'));
    const mBox = h('div', { hidden: true }, h('label', { for: 'new-members' }, 'Members (handles or UUIDs, one a line)'), members);
    const flip = () => { qBox.hidden = !logical.checked; mBox.hidden = logical.checked; };
    logical.addEventListener('change', flip);
    itemized.addEventListener('change', flip);
    const btn = h('button', { type: 'submit', class: 'primary' }, 'Create set');
    return h('form', { class: 'card wide', 'aria-label': 'Create a set', onsubmit: async (e) => {
      e.preventDefault();
      err.replaceChildren();
      const body = { name: name.value.trim(), content: content.value };
      if (logical.checked) body.query = query.value.trim();
      else body.members = memberList(members.value);
      if (logical.checked && !body.query) { err.replaceChildren(errorBox('A logical set needs a query.')); query.focus(); return; }
      btn.disabled = true;
      try {
        const r = await api('POST', '/api/sets', body);
        done((r && r.set && r.set.name) || body.name);
      } catch (ex) {
        const pos = ex.data && ex.data.position;
        err.replaceChildren(errorBox(ex.status === 403 ? 'Your roles do not allow creating sets.'
          : pos ? `${ex.message} (the query, at character ${pos})` : ex.message));
      } finally {
        btn.disabled = false;
      }
    } },
    h('h2', { class: 'first' }, 'Create a set'),
    h('label', { for: 'new-name' }, 'Name'), name,
    h('label', { for: 'new-content' }, 'Content type'), content,
    h('fieldset', {}, h('legend', {}, 'Kind'),
      h('div', { class: 'check' }, logical, h('label', { for: 'new-logical' }, 'Logical: a search query, run each time the set is used')),
      h('div', { class: 'check' }, itemized, h('label', { for: 'new-itemized' }, 'Itemized: the members listed'))),
    qBox, mBox, err, h('div', { class: 'actions' }, btn));
  }

  async function viewSets() {
    B.setView(null);
    const holder = h('div', {}, h('p', { class: 'muted' }, 'Loading the sets…'));
    const form = createForm((name) => {
      location.hash = setHref(name);
    });
    form.hidden = true;
    const newBtn = h('button', { type: 'button', class: 'primary', 'aria-expanded': 'false', onclick: () => {
      form.hidden = !form.hidden;
      newBtn.setAttribute('aria-expanded', String(!form.hidden));
      if (!form.hidden) form.querySelector('input').focus();
    } }, 'Create a set');
    show(h('h1', {}, 'Sets'),
      h('p', { class: 'muted' }, 'The records a set job runs on. Save a search as a set on the ', h('a', { href: '#/search' }, 'Search'),
        ' page, make one from a job\'s records on its report, or create one here.'),
      h('div', { class: 'actions' }, newBtn), form, holder);
    let sets;
    try {
      const d = await api('GET', '/api/sets');
      sets = (d && d.sets) || [];
    } catch (e) {
      if (e.status !== 401) holder.replaceChildren(errorBox(e.status === 403 ? 'Your roles do not allow seeing sets.' : `Could not load the sets: ${e.message}`));
      return;
    }
    holder.replaceChildren(sets.length
      ? h('div', { class: 'scroll' }, tableOf('Sets', ['Name', 'Content type', 'Kind', 'Members', 'Created', 'Created by'],
        sets.map((s) => h('tr', { 'data-set': s.name },
          h('td', { class: 'name' }, h('a', { href: setHref(s.name), class: 'cut', title: s.kind === 'logical' ? `${s.name}: ${s.query}` : s.name }, s.name)),
          h('td', { class: 'nowrap' }, CONTENT[s.content] || s.content || ''),
          h('td', { class: 'nowrap' }, kindLabel(s)),
          h('td', { class: 'num' }, count(s.members)),
          h('td', { class: 'time' }, fmtTime(s.created)),
          h('td', { class: 'user' }, h('span', { class: 'cut', title: s.creator || '' }, s.creator || '—')))), 'data sets'))
      : h('p', { class: 'empty muted' }, 'There are no sets yet.'));
  }

  async function viewSet(m) {
    const name = decodeURIComponent(m[1]);
    B.setView(null);
    const err = h('div');
    const body = h('div', {}, h('p', { class: 'muted' }, 'Loading the set…'));
    show(h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/sets' }, 'Sets'), ' › ', name), err, body);
    async function load() {
      let d;
      try {
        d = await api('GET', B.setPath(name));
      } catch (e) {
        if (e.status !== 401) body.replaceChildren(errorBox(e.status === 404 ? `There is no set ${name}.` : `Could not load the set: ${e.message}`));
        return;
      }
      const s = (d && d.set) || {};
      const sample = (d && d.sample) || [];
      const actions = h('div', { class: 'actions', role: 'group', 'aria-label': 'Set actions' });
      if (B.mayRunPage())
        actions.append(h('a', { class: 'button primary', href: `#/run?set=${encodeURIComponent(name)}` }, 'Run a job on this set'));
      if (s.kind === 'logical')
        actions.append(h('a', { class: 'button secondary', href: `#/search?q=${encodeURIComponent(s.query || '')}` }, 'Search with its query'));
      actions.append(h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!(await B.confirmDialog(`Delete set ${name}? Its records are not touched.`, 'Delete set'))) return;
        try {
          await api('POST', `${B.setPath(name)}/delete`);
          B.notice(`Set ${name} deleted.`, null, 'ok');
          location.hash = '#/sets';
        } catch (e) {
          err.replaceChildren(errorBox(`Could not delete the set: ${e.message}`));
        }
      } }, 'Delete set'));
      const kids = [
        h('div', { class: 'head' }, h('h1', {}, s.name || name)),
        dl([
          ['Content type', CONTENT[s.content] || s.content],
          ['Kind', s.kind === 'logical' ? 'Logical (a search query, run each time the set is used)' : 'Itemized (the members listed)'],
          ['Members', h('span', { class: 'members', 'data-members': s.members ?? '' }, count(s.members))],
          ['Query', s.kind === 'logical' ? h('code', { class: 'setquery' }, s.query || '') : ''],
          ['Note', s.note],
          ['Created', s.created && fmtTime(s.created)],
          ['Created by', s.creator],
        ]),
        actions,
      ];
      if (s.kind !== 'logical') kids.push(membersForm(s, load));
      kids.push(h('section', { 'aria-labelledby': 'h-sample' },
        h('h2', { id: 'h-sample' }, sample.length && typeof s.members === 'number' && s.members > sample.length
          ? `First ${fmtNum(sample.length)} of ${plural(s.members, 'member')}` : 'Members'),
        sample.length ? h('div', { class: 'scroll' }, tableOf('Members', ['Handle', 'Title', 'Status'],
          sample.map((it) => h('tr', { 'data-handle': it.handle || '' },
            h('td', { class: 'handle' }, it.handle || it.uuid ? h('a', { href: B.recordHref(it) }, it.handle || it.uuid) : '(deleted)'),
            h('td', {}, it.title || ''), h('td', {}, it.status || ''))), 'data sample'))
          : h('p', { class: 'muted' }, 'The set has no members.')));
      body.replaceChildren(...kids);
    }
    await load();
  }

  /* An itemized set's members: add or remove handles. */
  function membersForm(s, reload) {
    const err = h('div');
    const ta = h('textarea', { id: 'members-edit', rows: 3, class: 'long', spellcheck: 'false', placeholder: '123456789/4' });
    const send = async (op) => {
      err.replaceChildren();
      const list = memberList(ta.value);
      if (!list.length) { err.replaceChildren(errorBox('Name at least one handle or UUID.')); ta.focus(); return; }
      try {
        await api('POST', `${B.setPath(s.name)}/members`, { [op]: list });
        B.notice(`${op === 'add' ? 'Added to' : 'Removed from'} set ${s.name}: ${plural(list.length, 'record')}.`, null, 'ok');
        await reload();
      } catch (e) {
        err.replaceChildren(errorBox(e.message));
      }
    };
    return h('details', { class: 'members-edit' }, h('summary', {}, 'Add or remove members'),
      h('label', { for: 'members-edit' }, 'Handles or UUIDs, one a line'), ta, err,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => send('add') }, 'Add'),
        h('button', { type: 'button', class: 'secondary', onclick: () => send('remove') }, 'Remove')));
  }

  /* ---------- Trash ---------- */

  async function viewTrash() {
    B.setView(null);
    const err = h('div');
    const holder = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
    show(h('h1', {}, 'Trash'),
      h('p', { class: 'muted' }, 'Records a job deleted. Restore puts one back with its handle; each is purged for good after the date shown.'),
      err, holder);
    async function load() {
      let items;
      try {
        const d = await api('GET', '/api/trash');
        items = (d && d.items) || [];
      } catch (e) {
        if (e.status !== 401) holder.replaceChildren(errorBox(e.status === 403 ? 'Your roles do not allow seeing the Trash.' : `Could not load the Trash: ${e.message}`));
        return;
      }
      holder.replaceChildren(items.length
        ? h('div', { class: 'scroll' }, tableOf('Deleted records', ['Title', 'Handle', 'Deleted', 'By job', 'Purged after', ''],
          items.map((it) => h('tr', { 'data-uuid': it.uuid || '', 'data-handle': it.handle || '' },
            h('td', { class: 'name' }, h('span', { class: 'cut', title: it.title || '' }, it.title || '(untitled)')),
            h('td', { class: 'handle' }, it.handle || '—'),
            h('td', { class: 'time' }, fmtTime(it.deleted)),
            h('td', {}, it.job_id ? h('a', { href: `#/jobs/${it.job_id}` }, `Job ${it.job_id}`) : '—'),
            h('td', { class: 'time' }, fmtTime(it.purge_after)),
            h('td', {}, h('button', { type: 'button', class: 'secondary', 'aria-label': `Restore ${it.handle || it.title || it.uuid}`,
              onclick: async (e) => {
                e.currentTarget.disabled = true;
                err.replaceChildren();
                try {
                  const r = await api('POST', `/api/trash/${encodeURIComponent(it.uuid)}/restore`);
                  const back = (r && r.item && r.item.handle) || it.handle;
                  B.notice(`Restored: ${it.title || back}.`, back ? `#/records/${back}` : null, 'ok', 'Open the record');
                } catch (ex) {
                  err.replaceChildren(errorBox(`Could not restore ${it.handle || it.uuid}: ${ex.message}`));
                }
                await load();
              } }, 'Restore')))), 'data trash'))
        : h('p', { class: 'empty muted' }, 'The Trash is empty.'));
    }
    await load();
  }

  /* ---------- on a job report ---------- */

  /* The job's records by what it did to them (POST /api/sets from_job's outcomes). */
  function outcomes(job) {
    const c = job.counters || {};
    return [['imported', 'Imported', c.imported || 0], ['updated', 'Updated', c.updated || 0],
      ['deleted', 'Deleted', c.deleted || 0], ['rejected', 'Rejected (not imported)', c.not_imported || 0]];
  }
  async function setFromJob(job) {
    const err = h('div');
    const list = outcomes(job);
    const first = list.find((o) => o[2] > 0) || list[0];
    const name = h('input', { id: 'fj-name', required: true, maxlength: 127, class: 'long', autocomplete: 'off',
      value: `job-${job.id}-${first[0]}` });
    const radios = list.map(([v, label, n]) => {
      const r = h('input', { type: 'radio', name: 'outcome', id: `fj-${v}`, value: v, checked: v === first[0], disabled: n === 0 });
      r.addEventListener('change', () => { if (/^job-\d+-[a-z]+$/.test(name.value)) name.value = `job-${job.id}-${v}`; });
      return h('div', { class: 'check' }, r, h('label', { for: `fj-${v}` }, `${label} (${fmtNum(n)})`));
    });
    let made = null;
    const ok = await B.dialog({
      title: `Create a set from job ${job.id}'s records`,
      ok: 'Create set',
      body: [h('label', { for: 'fj-name' }, 'Set name'), name,
        h('fieldset', {}, h('legend', {}, 'Records'), radios),
        h('p', { class: 'muted small' }, 'A rejected new record has no item: only rejected updates join the set.'), err],
      onOk: async () => {
        err.replaceChildren();
        const outcome = (radios.map((x) => x.querySelector('input')).find((x) => x.checked) || {}).value;
        try {
          const r = await api('POST', '/api/sets', { name: name.value.trim(), content: 'assets', from_job: Number(job.id), outcome });
          made = (r && r.set && r.set.name) || name.value.trim();
          return true;
        } catch (e) {
          err.replaceChildren(errorBox(e.message));
          return false;
        }
      },
    });
    if (ok && made) {
      location.hash = setHref(made);
    }
  }

  /* What the job did to a record, and what the revert does to it. */
  const REVERT = {
    created: ['Created', 'moved to the Trash'],
    updated: ['Updated', 'earlier values put back'],
    deleted: ['Deleted', 'restored'],
  };
  const REVERT_SHOWN = 200;
  async function revert(job, err) {
    err.replaceChildren();
    let dry;
    try {
      dry = await api('POST', `/api/jobs/${job.id}/revert`, { dry_run: true });
    } catch (e) {
      err.replaceChildren(errorBox(`Could not prepare the revert: ${e.message}`));
      return;
    }
    const recs = (dry && dry.records) || [];
    const total = typeof dry.total === 'number' ? dry.total : recs.length;
    const conflicts = dry.conflicts || 0;
    const force = h('input', { type: 'checkbox', id: 'revert-force', name: 'force' });
    const derr = h('div');
    let newId = null;
    const rows = recs.slice(0, REVERT_SHOWN).map((r) => h('tr', { 'data-handle': r.handle || '', class: r.conflict ? 'conflict' : '' },
      h('td', { class: 'handle' }, r.handle ? h('a', { href: `#/records/${r.handle}`, target: '_blank', rel: 'noopener' }, r.handle) : '—'),
      h('td', {}, (REVERT[r.action] || [r.action])[0]),
      h('td', {}, (REVERT[r.action] || [, ''])[1]),
      h('td', {}, r.conflict ? h('strong', { class: 'warn' }, 'Changed since') : '—')));
    const ok = await B.dialog({
      title: `Revert job ${job.id}?`,
      ok: 'Revert',
      okClass: 'danger',
      wide: true,
      body: [
        h('p', { class: 'revert-summary', 'data-total': total, 'data-conflicts': conflicts },
          `${plural(total, 'record')} go back to how they were before job ${job.id}`,
          conflicts ? `; ${plural(conflicts, 'record was', 'records were')} changed after it and ${conflicts === 1 ? 'is' : 'are'} left as they are unless you force` : '',
          '.'),
        recs.length ? h('div', { class: 'scroll dlg-scroll' }, tableOf('Records the revert changes', ['Record', 'The job', 'The revert', 'Conflict'], rows, 'data revert')) : null,
        recs.length > REVERT_SHOWN ? h('p', { class: 'muted small' }, `The first ${fmtNum(REVERT_SHOWN)} are listed.`) : null,
        conflicts ? h('div', { class: 'check' }, force, h('label', { for: 'revert-force' }, 'Force: revert the changed records too (their later changes are lost)')) : null,
        h('p', { class: 'muted small' }, 'The revert runs as a job of its own; it can be watched on Monitor Jobs.'),
        derr,
      ],
      onOk: async () => {
        derr.replaceChildren();
        try {
          newId = B.newJobId(await api('POST', `/api/jobs/${job.id}/revert`, { dry_run: false, force: force.checked }));
          return true;
        } catch (e) {
          derr.replaceChildren(errorBox(e.status === 409 ? `${e.message} (force reverts them anyway)` : e.message));
          return false;
        }
      },
    });
    if (ok && newId !== null) {
      B.watchJob(newId);
      location.hash = `#/jobs/${newId}`;
    }
  }

  B.reportAction((job, actions, ctx) => {
    if (ctx.active) return;
    if (outcomes(job).some((o) => o[2] > 0))
      actions.append(h('button', { type: 'button', class: 'secondary', onclick: () => setFromJob(job) }, 'Create set from these records'));
    if (job.revertible === true)
      actions.append(h('button', { type: 'button', class: 'danger', onclick: () => revert(job, ctx.err) }, 'Revert'));
  });

  B.page(/^\/sets$/, 'sets', () => 'Sets', viewSets);
  B.page(/^\/sets\/(.+)$/, 'sets', (m) => `Set ${decodeURIComponent(m[1])}`, viewSet);
  B.page(/^\/trash$/, 'trash', () => 'Trash', viewTrash);
})();
