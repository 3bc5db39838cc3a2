// The operators' dashboard: a small page over the admin API. Everything shown comes from the API
// (so it is masked exactly as the API masks it); the token lives in session storage only and
// travels in the Authorization header, never in a URL. Elements are built with textContent,
// never from HTML strings: a payload or an error message cannot inject markup.

const API = '/api/v1/admin';
const TOKEN_KEY = 'c2s-enricher.admin-token';
const REFRESH_MS = 5000;
const STATUSES = ['received', 'processing', 'completed', 'failed', 'stale', 'superseded'];
const OUTCOMES = ['enriched', 'no_match', 'unchanged', 'closed', 'suppressed'];
const ACTIONS = ['on_create_lead', 'on_update_lead', 'on_close_lead'];
const PROVIDERS = { c2s: 'C2S', diretrix: 'Diretrix', workapi: 'Work API' };

const main = document.getElementById('main');
const nav = document.getElementById('nav');
/** Stops whatever the current page keeps doing (refresh timers, polling) when it is left. */
let leavePage = () => {};

// ---------- elements ----------

/** `h('a', {href}, 'text', child…)`: an element, its attributes and children (text or nodes). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const dash = '–';
const link = (href, text) => h('a', { href, 'data-nav': true }, text);
const badge = (value) => (value ? h('span', { class: `badge ${value}` }, value.replace('_', ' ')) : dash);

const localTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });

/** A time in the browser's zone, with the UTC instant on hover. */
function time(iso) {
  if (!iso) return dash;
  const at = new Date(iso);
  return h('time', { datetime: iso, title: `UTC ${iso}` }, localTime.format(at));
}

/** A table that becomes one labelled card per row on a phone. */
function table(columns, rows, empty = 'Nothing to show.') {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty);
  return h(
    'table',
    { class: 'rows' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((row) =>
        h(
          'tr',
          {},
          columns.map((c) => h('td', { class: c.class, 'data-label': c.label }, c.cell(row))),
        ),
      ),
    ),
  );
}

function message(text, kind = '') {
  return h('div', { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

function setPage(title, ...content) {
  document.title = `${title} · c2s-enricher`;
  main.replaceChildren(h('h1', {}, title), ...content.filter((part) => part !== null && part !== undefined));
}

// ---------- the API ----------

class SignedOut extends Error {}

async function api(path, options = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new SignedOut();
  const response = await fetch(`${API}${path}`, {
    ...options,
    headers: {
      authorization: `Bearer ${token}`,
      ...(options.body ? { 'content-type': 'application/json' } : {}),
    },
  });
  if (response.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    throw new SignedOut('The token was refused: sign in again.');
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok)
    throw Object.assign(new Error(body.message ?? `the API answered ${response.status}`), body);
  return body;
}

// ---------- sign-in ----------

function signIn(notice) {
  leavePage();
  nav.hidden = true;
  const error = notice ? message(notice, 'error') : null;
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const form = h(
    'form',
    { class: 'panel signin', onsubmit: (event) => void submit(event) },
    h('label', { for: 'token' }, 'Admin token'),
    input,
    h(
      'p',
      { class: 'muted' },
      'The ADMIN_TOKEN of the service (outside production, the file admin-token in its data directory). ' +
        'It is kept in this tab only, until you sign out or close it.',
    ),
    h('button', { type: 'submit' }, 'Sign in'),
  );
  async function submit(event) {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    try {
      await api('/stats');
      route();
    } catch (failure) {
      sessionStorage.removeItem(TOKEN_KEY);
      const text = failure instanceof SignedOut ? 'That token is not right.' : failure.message;
      form.querySelector('.message')?.remove();
      form.prepend(message(text, 'error'));
      input.select();
    }
  }
  document.title = 'Sign in · c2s-enricher';
  main.replaceChildren(h('h1', {}, 'Sign in'), ...(error ? [error] : []), form);
  input.focus();
}

document.getElementById('sign-out').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  signIn();
});

// ---------- navigation ----------

function navigate(url) {
  history.pushState(null, '', url);
  route();
}

document.addEventListener('click', (event) => {
  const anchor = event.target.closest?.('a[data-nav]');
  if (!anchor || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(anchor.getAttribute('href'));
});
window.addEventListener('popstate', () => route());

document.getElementById('lead-search').addEventListener('submit', (event) => {
  event.preventDefault();
  const lead = new FormData(event.target).get('lead').trim();
  if (lead) navigate(`/admin/leads/${encodeURIComponent(lead)}`);
});

const PAGES = [
  [/^\/admin\/?$/, overview, '/admin'],
  [/^\/admin\/events\/?$/, events, '/admin/events'],
  [/^\/admin\/events\/([^/]+)$/, eventPage, '/admin/events'],
  [/^\/admin\/failures\/?$/, failures, '/admin/failures'],
  [/^\/admin\/leads\/(.+)$/, leadPage, null],
];

async function route() {
  leavePage();
  leavePage = () => {};
  if (!sessionStorage.getItem(TOKEN_KEY)) return signIn();
  nav.hidden = false;
  const path = location.pathname;
  const [, render, section] = PAGES.find(([pattern]) => pattern.test(path)) ?? [];
  for (const anchor of nav.querySelectorAll('a')) {
    anchor.toggleAttribute('aria-current', anchor.getAttribute('href') === section);
    if (anchor.hasAttribute('aria-current')) anchor.setAttribute('aria-current', 'page');
  }
  if (!render) return setPage('Not found', h('p', {}, 'No such page. ', link('/admin', 'Overview')));
  const match = PAGES.find(([pattern]) => pattern.test(path))[0].exec(path);
  try {
    await render(...match.slice(1).map(decodeURIComponent));
  } catch (failure) {
    if (failure instanceof SignedOut) return signIn(failure.message || undefined);
    main.replaceChildren(h('h1', {}, 'Something went wrong'), message(failure.message, 'error'));
  }
  main.focus({ preventScroll: true });
}

// ---------- overview ----------

async function overview() {
  const counts = h('div', { class: 'cards' });
  const outcomes = h('div', { class: 'cards' });
  const backlog = h('div', { class: 'cards' });
  const providers = h('div', { class: 'providers' });
  const chartBox = h('div', {
    class: 'chart panel',
    role: 'img',
    'aria-label': 'Events per minute, last hour',
  });
  const refreshed = h('p', { class: 'refreshed muted', 'aria-live': 'off' });
  setPage(
    'Overview',
    refreshed,
    h('h2', {}, 'Events by status'),
    counts,
    h('h2', {}, 'Outcomes, last 24 hours'),
    outcomes,
    h('h2', {}, 'Backlog'),
    backlog,
    h('h2', {}, 'Last hour, per minute'),
    chartBox,
    h('h2', {}, 'Providers'),
    providers,
  );
  let chart;
  const card = (label, value, href) =>
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'value' }, value),
      h('div', { class: 'label' }, href ? link(href, label) : label),
    );

  async function refresh() {
    const stats = await api('/stats');
    counts.replaceChildren(
      ...STATUSES.map((status) =>
        card(status, stats.events_by_status[status] ?? 0, `/admin/events?status=${status}`),
      ),
    );
    outcomes.replaceChildren(
      ...OUTCOMES.map((outcome) => card(outcome.replace('_', ' '), stats.outcomes_24h[outcome] ?? 0)),
    );
    backlog.replaceChildren(
      card('due now', stats.backlog.due),
      card('waiting for a retry', stats.backlog.waiting_retry),
      card('oldest waiting', age(stats.backlog.oldest_due_age_s)),
    );
    providers.replaceChildren(
      ...Object.entries(PROVIDERS).map(([key, name]) => {
        const p = stats.providers[key];
        const rate = p.calls_1h === 0 ? dash : `${((100 * p.errors_1h) / p.calls_1h).toFixed(1)} %`;
        return h(
          'section',
          { class: 'card provider', 'aria-label': name },
          h('h3', {}, name, ' ', badge(p.breaker)),
          h(
            'dl',
            { class: 'facts' },
            h('dt', {}, 'Calls, last hour'),
            h('dd', {}, p.calls_1h),
            h('dt', {}, 'Error rate'),
            h('dd', {}, rate),
            h('dt', {}, 'Last error'),
            h('dd', {}, p.last_error_code ?? dash, p.last_error_at ? [' at ', time(p.last_error_at)] : ''),
          ),
        );
      }),
    );
    chart = drawChart(chartBox, chart, stats.per_minute_1h);
    refreshed.replaceChildren('Updated ', time(new Date().toISOString()), ', every few seconds.');
  }
  await refresh();
  const timer = setInterval(() => void refresh().catch(handleBackgroundFailure), REFRESH_MS);
  const onResize = () => chart?.setSize(chartSize(chartBox));
  window.addEventListener('resize', onResize);
  leavePage = () => {
    clearInterval(timer);
    window.removeEventListener('resize', onResize);
  };
}

function handleBackgroundFailure(failure) {
  if (failure instanceof SignedOut) signIn(failure.message);
}

function age(seconds) {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function chartSize(box) {
  return { width: Math.max(260, box.clientWidth - 32), height: 200 };
}

/** The per-minute chart: drawn once, then given new data in place (no flicker). */
function drawChart(box, chart, perMinute) {
  const data = [
    perMinute.map((m) => Date.parse(m.minute) / 1000),
    perMinute.map((m) => m.received),
    perMinute.map((m) => m.completed),
    perMinute.map((m) => m.failed),
  ];
  if (chart) {
    chart.setData(data);
    return chart;
  }
  if (typeof uPlot === 'undefined') return undefined; // the chart script did not load: numbers still show
  return new uPlot(
    {
      ...chartSize(box),
      series: [
        {},
        { label: 'received', stroke: '#0b57d0', width: 2 },
        { label: 'completed', stroke: '#0f6b2f', width: 2 },
        { label: 'failed', stroke: '#b3261e', width: 2 },
      ],
      axes: [{}, { size: 40 }],
    },
    data,
    box,
  );
}

// ---------- events ----------

const FILTERS = ['status', 'outcome', 'error_code', 'lead_id', 'hook_action', 'since', 'until'];

async function events() {
  const query = new URLSearchParams(location.search);
  const apiQuery = new URLSearchParams();
  for (const name of [...FILTERS, 'cursor']) {
    const value = query.get(name);
    if (value)
      apiQuery.set(name, name === 'since' || name === 'until' ? new Date(value).toISOString() : value);
  }
  apiQuery.set('limit', '50');
  const page = await api(`/events?${apiQuery}`);

  const select = (name, label, values) =>
    h(
      'label',
      {},
      label,
      h(
        'select',
        { name },
        h('option', { value: '' }, 'any'),
        values.map((value) => h('option', { value, selected: query.get(name) === value }, value)),
      ),
    );
  const text = (name, label, type = 'text') =>
    h('label', {}, label, h('input', { name, type, value: query.get(name) ?? '' }));
  const form = h(
    'form',
    { class: 'filters', onsubmit: (event) => void applyFilters(event) },
    select('status', 'Status', STATUSES),
    select('outcome', 'Outcome', OUTCOMES),
    text('error_code', 'Error code'),
    text('lead_id', 'Lead id'),
    select('hook_action', 'Action', ACTIONS),
    text('since', 'Received since', 'datetime-local'),
    text('until', 'Received before', 'datetime-local'),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Filter'), link('/admin/events', 'Clear')),
  );
  function applyFilters(event) {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (value) next.set(name, value);
    navigate(`/admin/events${next.size ? `?${next}` : ''}`);
  }

  const older = new URLSearchParams(query);
  if (page.next_cursor) older.set('cursor', page.next_cursor);
  const newest = new URLSearchParams(query);
  newest.delete('cursor');
  // Folded on a phone unless a filter is set: the events come first.
  const filtering = FILTERS.some((name) => query.get(name));
  const open = filtering || window.matchMedia('(min-width: 641px)').matches;
  setPage(
    'Events',
    h(
      'details',
      { class: 'panel filter-box', open },
      h('summary', {}, filtering ? 'Filters (set)' : 'Filters'),
      form,
    ),
    eventTable(page.events),
    h(
      'div',
      { class: 'pager' },
      query.get('cursor') ? link(`/admin/events?${newest}`, '← Newest') : null,
      page.next_cursor ? link(`/admin/events?${older}`, 'Older →') : null,
    ),
  );
}

function eventTable(list, empty = 'No event matches.') {
  return table(
    [
      { label: 'Received', cell: (e) => link(`/admin/events/${e.id}`, time(e.received_at)) },
      {
        label: 'Lead',
        class: 'id',
        cell: (e) => link(`/admin/leads/${encodeURIComponent(e.lead_id)}`, e.lead_id),
      },
      { label: 'Action', cell: (e) => e.hook_action ?? dash },
      { label: 'Status', cell: (e) => badge(e.status) },
      { label: 'Outcome', cell: (e) => e.outcome?.replace('_', ' ') ?? dash },
      { label: 'Attempts', class: 'num', cell: (e) => e.attempts },
      { label: 'Error', cell: (e) => e.error_code ?? dash },
    ],
    list,
    empty,
  );
}

// ---------- one event ----------

async function eventPage(id) {
  const event = await api(`/events/${encodeURIComponent(id)}`);
  const longest = Math.max(1, ...event.steps.map((s) => s.duration_ms ?? 0));
  const status = h('div', { 'aria-live': 'polite' });
  const from = h(
    'select',
    { id: 'reprocess-from', name: 'from' },
    h('option', { value: 'failed_step' }, 'from the failed step'),
    h('option', { value: 'start' }, 'from the start'),
  );
  const button = h('button', { type: 'button', onclick: () => void reprocess() }, 'Reprocess');
  const finished = !['received', 'processing'].includes(event.status);

  async function reprocess() {
    button.disabled = true;
    try {
      await api(`/events/${encodeURIComponent(id)}/reprocess`, {
        method: 'POST',
        body: JSON.stringify({ from: from.value }),
      });
      status.replaceChildren(message('Queued again: waiting for it to run…'));
      const poll = setInterval(() => {
        void api(`/events/${encodeURIComponent(id)}`)
          .then((now) => {
            if (['received', 'processing'].includes(now.status)) return;
            clearInterval(poll);
            void eventPage(id);
          })
          .catch(handleBackgroundFailure);
      }, 1000);
      leavePage = () => clearInterval(poll);
    } catch (failure) {
      button.disabled = false;
      status.replaceChildren(message(failure.message, 'error'));
    }
  }

  setPage(
    'Event',
    h(
      'section',
      { class: 'panel' },
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Id'),
        h('dd', {}, event.id),
        h('dt', {}, 'Lead'),
        h('dd', {}, link(`/admin/leads/${encodeURIComponent(event.lead_id)}`, event.lead_id)),
        h('dt', {}, 'Action'),
        h('dd', {}, event.hook_action ?? dash),
        h('dt', {}, 'Status'),
        h('dd', {}, badge(event.status), event.outcome ? ` ${event.outcome.replace('_', ' ')}` : ''),
        h('dt', {}, 'Attempts'),
        h('dd', {}, event.attempts),
        h('dt', {}, 'Lead updated'),
        h('dd', {}, time(event.updated_at)),
        h('dt', {}, 'Received'),
        h('dd', {}, time(event.received_at)),
        h('dt', {}, 'Finished'),
        h('dd', {}, time(event.finished_at)),
        h('dt', {}, 'Note'),
        h(
          'dd',
          {},
          event.note
            ? [
                badge(event.note.state),
                ` ${event.note.ref} `,
                event.note.sent_at ? time(event.note.sent_at) : '',
              ]
            : 'none',
        ),
      ),
    ),
    // DRY_RUN kept this note instead of posting it: its text, to compare with the old automation's.
    event.note?.body
      ? h(
          'section',
          { class: 'dry-run-note', 'aria-label': 'Dry-run note' },
          h('h3', {}, 'Note kept by the dry run (not posted)'),
          h('pre', { tabindex: 0 }, event.note.body),
        )
      : null,
    event.error_code ? message(`${event.error_code}: ${event.error_message ?? ''}`, 'error') : null,
    h(
      'div',
      { class: 'actions' },
      h('label', { for: 'reprocess-from', class: 'visually-hidden' }, 'Reprocess from'),
      from,
      button,
      finished ? null : h('span', { class: 'muted' }, 'It is queued or running now.'),
    ),
    status,
    h('h2', {}, 'Steps'),
    table(
      [
        { label: 'Step', cell: (s) => s.step },
        { label: 'Status', cell: (s) => badge(s.status) },
        { label: 'Attempts', class: 'num', cell: (s) => s.attempts },
        { label: 'Started', cell: (s) => time(s.started_at) },
        {
          label: 'Duration',
          cell: (s) => [
            s.duration_ms === null ? dash : `${s.duration_ms} ms`,
            h('span', { class: 'bar', 'data-width': s.duration_ms ?? 0 }),
          ],
        },
        { label: 'Error', cell: (s) => (s.error_code ? `${s.error_code}: ${s.error_message ?? ''}` : dash) },
      ],
      event.steps,
      'No step has run yet.',
    ),
    h('h2', {}, 'Payload (personal data masked)'),
    h('pre', { class: 'payload', tabindex: 0 }, JSON.stringify(event.payload, null, 2)),
  );
  // Bar widths through the CSSOM: the page's policy allows no inline style attributes.
  for (const bar of main.querySelectorAll('.bar'))
    bar.style.width = `${(100 * Number(bar.dataset.width)) / longest}%`;
}

// ---------- failures ----------

async function failures() {
  const { failures: groups } = await api('/failures');
  const status = h('div', { 'aria-live': 'polite' });
  const dialog = h('dialog', { 'aria-labelledby': 'confirm-title' });
  document.body.append(dialog);
  leavePage = () => dialog.remove();

  async function replayAll(code, button) {
    button.disabled = true;
    try {
      const filter = { status: 'failed', error_code: code };
      const dry = await api('/replay', { method: 'POST', body: JSON.stringify({ filter, dry_run: true }) });
      const confirmed = await confirmReplay(dialog, code, dry);
      if (!confirmed) return;
      const done = await api('/replay', { method: 'POST', body: JSON.stringify({ filter }) });
      status.replaceChildren(
        message(`Replay of ${code}: ${done.scheduled} of ${done.matched} events queued again.`, 'ok'),
      );
    } catch (failure) {
      if (failure instanceof SignedOut) return signIn(failure.message);
      status.replaceChildren(message(failure.message, 'error'));
    } finally {
      button.disabled = false;
    }
  }

  setPage(
    'Failures',
    h(
      'p',
      { class: 'muted' },
      'Failed events by error code. A replay queues them again through the usual limits; no note is ever posted twice.',
    ),
    status,
    table(
      [
        {
          label: 'Error code',
          cell: (g) =>
            link(`/admin/events?status=failed&error_code=${encodeURIComponent(g.error_code)}`, g.error_code),
        },
        { label: 'Events', class: 'num', cell: (g) => g.count },
        { label: 'Last failed', cell: (g) => time(g.last_failed_at) },
        {
          label: 'Replay',
          cell: (g) => {
            const button = h('button', { type: 'button', class: 'quiet' }, 'Replay all');
            button.addEventListener('click', () => void replayAll(g.error_code, button));
            button.setAttribute('aria-label', `Replay all ${g.error_code}`);
            return button;
          },
        },
      ],
      groups,
      'No failed events.',
    ),
  );
}

/** Shows the dry run's count and asks before acting; resolves true to go ahead. */
function confirmReplay(dialog, code, dry) {
  return new Promise((resolve) => {
    const cancel = h(
      'button',
      { type: 'button', class: 'quiet', onclick: () => dialog.close('cancel') },
      'Cancel',
    );
    const go = h(
      'button',
      { type: 'button', onclick: () => dialog.close('replay') },
      `Replay ${dry.scheduled}`,
    );
    dialog.replaceChildren(
      h('h2', { id: 'confirm-title' }, `Replay ${code}?`),
      h(
        'p',
        {},
        `${dry.matched} failed events have this code; ${dry.scheduled} of them can run again ` +
          '(the others are no longer the newest event of their lead).',
      ),
      h('div', { class: 'actions' }, go, cancel),
    );
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'replay'), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
    (dry.scheduled > 0 ? go : cancel).focus();
    go.disabled = dry.scheduled === 0;
  });
}

// ---------- one lead ----------

async function leadPage(leadId) {
  let history;
  try {
    history = await api(`/leads/${encodeURIComponent(leadId)}`);
  } catch (failure) {
    if (failure.error !== 'not_found') throw failure;
    return setPage('Lead', message(`No event of lead ${leadId} was ever received.`));
  }
  setPage(
    'Lead',
    h('p', { class: 'id' }, h('strong', {}, 'Lead '), history.lead_id),
    h('h2', {}, 'Events'),
    eventTable(history.events),
    h('h2', {}, 'Notes'),
    table(
      [
        { label: 'Reference', cell: (n) => n.ref },
        { label: 'State', cell: (n) => badge(n.state) },
        { label: 'Sent', cell: (n) => time(n.sent_at) },
      ],
      history.notes,
      'No note for this lead.',
    ),
  );
}

void route();
