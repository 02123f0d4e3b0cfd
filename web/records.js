/* bulkrepo web UI: the Search page and the record view (issue 10), on app.js's helpers
 * (window.bulkrepo).  Routes:
 *   #/search?q=&order=rank|handle&offset=   GET /api/items?q=… (docs/search.md's language)
 *   #/records/HANDLE                         GET /api/items/HANDLE (or a UUID)
 * Every server string goes in through textContent; a link's URL from a record is used
 * only when it is http(s). */
'use strict';

(function () {
  const B = window.bulkrepo;
  const { h, api, show, errorBox, dl, tableOf, fmtTime, fmtNum, fmtBytes, plural } = B;
  const PAGE = 50;            /* hits per page */
  const ITEMIZED_MAX = 50000; /* hits an itemized set may be made of (else: save it as logical) */
  const FETCH = 1000;         /* hits per request when collecting an itemized set's members */
  const LAST = 'bulkrepo.search'; /* sessionStorage: the last search's hash */

  /* The query language, one line (include/bulkrepo/search.h). */
  const HELP = [
    'Words match anywhere; "a phrase" in that order. Fields: ',
    ...['title:', 'creator:', 'orcid:', 'type:', 'collection:', 'status:', 'affiliation:', 'identifier:', 'doi:', 'isbn:']
      .flatMap((f, i) => [i ? ' ' : '', h('code', {}, f)]),
    '; ', h('code', {}, 'date:2019..2021'), '; ', h('code', {}, 'has:file'), ' ', h('code', {}, 'has:doi'), ' ',
    h('code', {}, 'has:link'), '; ', h('code', {}, 'job:ID'), '. Combine with ', h('code', {}, 'AND'), ' ',
    h('code', {}, 'OR'), ' ', h('code', {}, 'NOT'), ' and ', h('code', {}, '( )'), '.',
  ];

  function searchHash(q, order, offset) {
    const p = new URLSearchParams();
    p.set('q', q);
    if (order && order !== 'rank') p.set('order', order);
    if (offset) p.set('offset', String(offset));
    return '#/search?' + p;
  }
  /* The server's 1-based position of a query error, counted in characters (code points),
   * as an index into the JavaScript string (UTF-16: a character may take two units). */
  function charIndex(q, pos) {
    let n = 0, i = 0;
    for (const ch of q) {
      if (n >= pos - 1) break;
      n++;
      i += ch.length;
    }
    return i;
  }
  /* The query with a caret under the place the server names. */
  function queryError(q, e) {
    const pos = e.data && Number(e.data.position);
    if (!(pos >= 1)) return errorBox(e.message);
    const at = charIndex(q, pos);
    const ch = [...q.slice(at)][0] || '';
    return h('div', { class: 'error qerror', role: 'alert', 'data-position': pos },
      h('p', {}, e.message),
      h('pre', { class: 'caret', 'aria-hidden': 'true' },
        h('span', {}, q.slice(0, at)), h('mark', {}, ch || ' '), h('span', {}, q.slice(at + ch.length)), '\n',
        h('span', { class: 'marker' }, ' '.repeat(pos - 1) + '^')),
      h('p', { class: 'sr-only' }, `At character ${pos} of the query.`));
  }

  /* ---------- Search ---------- */

  async function viewSearch(m, query) {
    const q = (query.q || '').trim();
    const order = query.order === 'handle' ? 'handle' : 'rank';
    const offset = Math.max(0, parseInt(query.offset || '0', 10) || 0);
    const input = h('input', { id: 'q', name: 'q', type: 'search', class: 'query', value: query.q || '', autocomplete: 'off',
      spellcheck: 'false', 'aria-describedby': 'q-help', placeholder: 'title:"soil carbon" AND date:2019..2024' });
    const orderSel = h('select', { id: 'order', name: 'order' },
      h('option', { value: 'rank' }, 'Best match first'), h('option', { value: 'handle' }, 'By handle'));
    orderSel.value = order;
    const form = h('form', { class: 'searchbar', role: 'search', onsubmit: (e) => {
      e.preventDefault();
      const nq = input.value.trim();
      if (!nq) { input.focus(); return; }
      const want = searchHash(nq, orderSel.value, 0);
      if (location.hash === want) run(); else location.hash = want;
    } },
    h('label', { for: 'q' }, 'Search records'),
    h('div', { class: 'row' }, input, h('button', { type: 'submit', class: 'primary' }, 'Search'),
      h('label', { for: 'order', class: 'sr-only' }, 'Order'), orderSel),
    h('p', { id: 'q-help', class: 'muted small help' }, HELP));
    orderSel.addEventListener('change', () => { if (q) location.hash = searchHash(q, orderSel.value, 0); });
    const out = h('div', { class: 'results', 'aria-live': 'polite', 'data-q': q || '' });
    show(h('h1', {}, 'Search'), form, out);
    B.setView(null);
    if (!q) {
      out.replaceChildren(h('p', { class: 'muted' }, 'Type a query: the records it finds open in their record view.'));
      input.focus();
      return;
    }

    /* the record view's way back to these results */
    sessionStorage.setItem(LAST, searchHash(q, order, offset));

    async function run() {
      out.replaceChildren(h('p', { class: 'muted' }, 'Searching…'));
      input.removeAttribute('aria-invalid');
      let d;
      try {
        d = await api('GET', `/api/items?${new URLSearchParams({ q, limit: PAGE, offset, order })}`);
      } catch (e) {
        if (e.status === 401) return;
        if (e.status === 400) {
          out.replaceChildren(queryError(q, e));
          input.setAttribute('aria-invalid', 'true');
          const pos = e.data && Number(e.data.position);
          if (pos >= 1) {
            const at = charIndex(q, pos);
            input.focus();
            input.setSelectionRange(at, Math.min(q.length, at + ([...q.slice(at)][0] || '').length));
          }
        } else {
          out.replaceChildren(errorBox(e.status === 403 ? 'Your roles do not allow searching the records.' : `The search failed: ${e.message}`));
        }
        return;
      }
      const items = (d && d.items) || [];
      const total = d && typeof d.total === 'number' ? d.total : items.length;
      const save = h('button', { type: 'button', class: 'secondary', onclick: () => saveAsSet(q, total) }, 'Save as set');
      const pager = h('div', { class: 'pager' },
        offset > 0 ? h('a', { class: 'button secondary', href: searchHash(q, order, Math.max(0, offset - PAGE)) }, 'Previous') : null,
        items.length ? h('span', { class: 'muted' }, `${fmtNum(offset + 1)}–${fmtNum(offset + items.length)} of ${fmtNum(total)}`) : null,
        offset + items.length < total ? h('a', { class: 'button secondary', href: searchHash(q, order, offset + PAGE) }, 'Next') : null);
      B.fill(out,
        h('div', { class: 'resultbar' }, h('p', { class: 'total', 'data-total': total }, total === 1 ? '1 record found' : `${fmtNum(total)} records found`),
          total > 0 ? save : null),
        items.length ? h('div', { class: 'scroll' }, tableOf('Records found', ['Handle', 'Title', { text: 'Collection', cls: 'hide-narrow' }, 'Status', { text: 'Modified', cls: 'hide-narrow' }],
          items.map((it) => h('tr', { 'data-handle': it.handle || '' },
            h('td', { class: 'handle' }, h('a', { href: B.recordHref(it) }, it.handle || it.uuid || '')),
            h('td', { class: 'name' }, h('a', { href: B.recordHref(it), class: 'cut', title: it.title || '' }, it.title || '(untitled)')),
            h('td', { class: 'hide-narrow' }, it.collection || ''), h('td', {}, it.status || ''),
            h('td', { class: 'time hide-narrow' }, fmtTime(it.modified)))), 'data hits'))
          : h('p', { class: 'empty muted' }, offset ? 'No more records.' : 'No record matches the query.'),
        total > PAGE || offset ? pager : null);
    }
    await run();
  }

  /* "Save as set": logical (the query, evaluated whenever the set is used) or itemized
   * (the records found now, listed).  Then the set's page. */
  async function saveAsSet(q, total) {
    const err = h('div');
    const name = h('input', { id: 'set-name', name: 'name', required: true, maxlength: 127, class: 'long', autocomplete: 'off' });
    const logical = h('input', { type: 'radio', name: 'kind', id: 'kind-logical', value: 'logical', checked: true });
    const itemized = h('input', { type: 'radio', name: 'kind', id: 'kind-itemized', value: 'itemized', disabled: total > ITEMIZED_MAX });
    const progress = h('p', { class: 'muted small', 'aria-live': 'polite' });
    let made = null;
    const ok = await B.dialog({
      title: 'Save the search as a set',
      ok: 'Save set',
      body: [
        h('label', { for: 'set-name' }, 'Set name'), name,
        h('fieldset', {}, h('legend', {}, 'Kind'),
          h('div', { class: 'check' }, logical, h('label', { for: 'kind-logical' }, 'Logical: the query, run again each time the set is used')),
          h('div', { class: 'check' }, itemized, h('label', { for: 'kind-itemized' },
            `Itemized: the ${plural(total, 'record')} found now`, total > ITEMIZED_MAX ? ` (at most ${fmtNum(ITEMIZED_MAX)})` : ''))),
        h('p', { class: 'small' }, 'Query: ', h('code', {}, q)),
        progress, err,
      ],
      onOk: async () => {
        err.replaceChildren();
        const body = { name: name.value.trim(), content: 'assets' };
        if (!body.name) { err.replaceChildren(errorBox('Give the set a name.')); name.focus(); return false; }
        try {
          if (itemized.checked) {
            const members = [];
            for (let off = 0; off < total; off += FETCH) {
              progress.textContent = `Collecting the records: ${fmtNum(off)} of ${fmtNum(total)}`;
              const d = await api('GET', `/api/items?${new URLSearchParams({ q, limit: FETCH, offset: off, order: 'handle' })}`);
              const page = (d && d.items) || [];
              for (const it of page) members.push(it.handle || it.uuid);
              if (page.length < FETCH) break;
            }
            progress.textContent = '';
            body.members = members;
          } else {
            body.query = q;
          }
          const r = await api('POST', '/api/sets', body);
          made = (r && r.set && r.set.name) || body.name;
          return true;
        } catch (e) {
          progress.textContent = '';
          err.replaceChildren(errorBox(e.status === 403 ? 'Your roles do not allow creating sets.' : e.message));
          return false;
        }
      },
    });
    if (ok && made) {
      location.hash = `#/sets/${encodeURIComponent(made)}`;
    }
  }

  /* ---------- record view ---------- */

  function safeUrl(u) {
    return /^https?:\/\//i.test(String(u || '')) ? String(u) : null;
  }
  function extLink(url, text) {
    const u = safeUrl(url);
    return u ? h('a', { href: u, target: '_blank', rel: 'noopener noreferrer' }, text || u) : (text || url || '');
  }
  function section(id, title, ...kids) {
    return h('section', { 'aria-labelledby': id, class: 'rsec' }, h('h2', { id }, title), ...kids);
  }
  function none(text) {
    return h('p', { class: 'muted' }, text);
  }
  function creatorName(c) {
    return c.display || [c.family, [c.given, c.middle].filter(Boolean).join(' ')].filter(Boolean).join(', ') || '(unnamed)';
  }
  const ORCID = /^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$/;
  const ACTIONS = { imported: 'Imported', exported: 'Exported', created: 'Created', updated: 'Updated', deleted: 'Deleted', restored: 'Restored', reverted: 'Reverted' };

  /* Metadata as field → values; a value's language after it. */
  function metadataTable(md) {
    const keys = Object.keys(md || {}).sort();
    if (!keys.length) return none('No metadata.');
    return tableOf('Metadata', ['Field', 'Values'], keys.map((k) => {
      const vals = (Array.isArray(md[k]) ? md[k] : [md[k]]).map((v) => (v && typeof v === 'object' ? v : { value: v }));
      const one = (v) => [String(v.value ?? ''), v.language ? h('span', { class: 'lang muted' }, ` [${v.language}]`) : null];
      return h('tr', { 'data-field': k }, h('th', { scope: 'row' }, h('code', {}, k)),
        h('td', { class: 'msg' }, vals.length === 1 ? one(vals[0]) : h('ul', { class: 'values' }, vals.map((v) => h('li', {}, one(v))))));
    }), 'data meta', true);
  }

  async function viewRecord(m) {
    const handle = m[1];
    const body = h('div', { class: 'record', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading the record…'));
    show(h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: sessionStorage.getItem(LAST) || '#/search' }, 'Search'),
      ' › ', `Record ${handle}`), body);
    B.setView(null);
    let rec;
    try {
      rec = await api('GET', B.itemPath(handle));
    } catch (e) {
      if (e.status === 401) return;
      body.setAttribute('aria-busy', 'false');
      body.replaceChildren(errorBox(e.status === 404 ? `There is no record ${handle}.`
        : e.status === 403 ? `Your roles do not allow reading record ${handle}.` : `Could not load record ${handle}: ${e.message}`));
      return;
    }
    if (!B.main.contains(body)) return;
    const h_ = rec.handle || handle;
    const bits = rec.bitstreams || [];
    const creators = rec.creators || [];
    const links = rec.links || [];
    const ids = rec.identifiers || [];
    const rels = rec.relationships || [];
    const jobs = rec.jobs || [];
    const others = (rec.collections || []).filter((c) => c !== rec.owningCollection);
    const title = rec.name || ((rec.metadata || {})['dc.title'] || [])[0]?.value || '(untitled)';
    document.title = `${title} · bulkrepo`;
    body.replaceChildren(
      h('div', { class: 'head report-head' }, h('h1', {}, title), h('span', { class: 'status rstatus', 'data-status': rec.status || '' }, rec.status || '—')),
      dl([
        ['Handle', h_],
        ['UUID', rec.uuid],
        ['Status', rec.status],
        ['Collection', rec.owningCollection],
        ['Also in', others.join(', ')],
        ['Created', rec.created && fmtTime(rec.created)],
        ['Last modified', rec.lastModified && fmtTime(rec.lastModified)],
      ]),
      h('div', { class: 'actions' }, h('a', { class: 'button secondary', href: B.itemPath(h_), target: '_blank', rel: 'noopener' }, 'Record as JSON')),
      section('h-meta', 'Metadata', metadataTable(rec.metadata)),
      section('h-creators', `Creators and contributors (${creators.length})`, creators.length
        ? h('div', { class: 'scroll' }, tableOf('Creators and contributors', ['Name', 'Role', 'ORCID', 'Affiliation'],
          creators.map((c) => h('tr', {},
            h('td', {}, creatorName(c), c.organization ? h('span', { class: 'muted' }, ' (organization)') : null),
            h('td', {}, [c.role, c.type].filter(Boolean).join(' · ')),
            h('td', {}, c.orcid ? (ORCID.test(c.orcid) ? extLink(`https://orcid.org/${c.orcid}`, c.orcid) : c.orcid) : '—'),
            h('td', {}, c.affiliation || '—'))), 'data', true))
        : none('No creators are recorded apart from the metadata.')),
      section('h-files', `Files (${bits.length})`, bits.length
        ? h('div', { class: 'scroll' }, tableOf('Files', ['Name', 'Bundle', 'Type', 'Size', 'Checksum', ''],
          bits.map((b) => {
            const sum = b.md5 ? `MD5 ${b.md5}` : b.sha256 ? `SHA-256 ${b.sha256}` : (b.checksum || '');
            const url = `${B.itemPath(h_)}/files/${encodeURIComponent(b.sequence)}`;
            return h('tr', { 'data-file': b.name || '' },
              h('td', { class: 'name' }, h('span', { class: 'cut', title: b.description ? `${b.name} — ${b.description}` : b.name }, b.name || '')),
              h('td', {}, b.bundle || ''), h('td', {}, b.mime || '—'),
              h('td', { class: 'num' }, fmtBytes(b.size)),
              h('td', { class: 'sum' }, h('code', { class: 'cut', title: sum }, sum || '—')),
              h('td', {}, h('a', { class: 'button', href: url, download: b.name || '', 'aria-label': `Download ${b.name}` }, 'Download')));
          }), 'data files', true))
        : none('No files.')),
      section('h-links', `Links (${links.length})`, links.length
        ? tableOf('Links', ['Link', 'Type', 'Description'], links.map((l) => h('tr', {},
          h('td', { class: 'msg' }, extLink(l.url, l.title || l.url)), h('td', {}, l.type || ''), h('td', { class: 'msg' }, l.description || ''))), 'data', true)
        : none('No links.')),
      section('h-ids', `Identifiers (${ids.length})`, ids.length
        ? tableOf('Identifiers', ['Type', 'Value'], ids.map((i) => h('tr', {}, h('td', {}, i.type || ''),
          h('td', { class: 'msg' }, /^doi$/i.test(i.type || '') ? extLink(`https://doi.org/${i.value}`, i.value) : i.value))), 'data', true)
        : none('No identifiers.')),
      section('h-rels', `Relationships (${rels.length})`, rels.length
        ? tableOf('Relationships', ['Relation', 'Related record'], rels.map((r) => h('tr', {},
          /* "relation": the type as this record's side reads it (isPartOf / hasPart) */
          h('td', { title: r.type || '' }, r.relation || [r.type, r.side ? `(${r.side})` : ''].filter(Boolean).join(' ')),
          h('td', {}, r.item ? h('a', { href: `#/records/${r.item}` }, r.item) : '—'))), 'data', true)
        : none('No relationships.')),
      section('h-jobs', 'Jobs that touched this record', jobs.length
        ? tableOf('Jobs that touched this record', ['Job', 'Name', 'Type', 'What it did', 'Submitted'], jobs.map((j) => h('tr', { 'data-job': j.id },
          h('td', { class: 'nowrap' }, h('a', { href: `#/jobs/${j.id}`, 'aria-label': `Job ${j.id} report` }, `Job ${j.id}`)),
          h('td', { class: 'name' }, h('span', { class: 'cut', title: j.name || '' }, j.name || '')),
          h('td', { class: 'nowrap' }, h('code', {}, j.type || '')), h('td', {}, ACTIONS[j.outcome] || j.outcome || ''),
          h('td', { class: 'time' }, fmtTime(j.submitted)))), 'data rjobs', true)
        : none(rec.jobs ? 'No job has touched this record.' : 'The server does not list the jobs of a record.')));
    body.setAttribute('aria-busy', 'false');
  }

  B.page(/^\/search$/, 'search', () => 'Search', viewSearch);
  B.page(/^\/records\/(.+)$/, 'search', (m) => `Record ${m[1]}`, viewRecord);
})();
