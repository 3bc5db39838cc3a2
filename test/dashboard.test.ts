import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot, seriousViolations } from './helpers/browser.ts';
import { startEnrichment, type EnrichmentRig } from './helpers/enrichment.ts';
import { ADMIN_TOKEN } from './helpers/service.ts';
import { until } from './helpers/wait.ts';

const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 360, height: 740 };

/** Leads C2S answers 404 for (deleted there), and leads that go through. */
const GONE = ['gone-lead-1', 'gone-lead-2', 'gone-lead-3'];
const FINE = ['fine-lead-1', 'fine-lead-2', 'a-very-long-lead-identifier-0123456789abcdef0123456789abcdef'];

async function statuses(rig: EnrichmentRig): Promise<Map<string, string>> {
  const { rows } = await rig.service.db.pool.query<{ lead_id: string; status: string }>(
    'SELECT lead_id, status FROM webhook_events',
  );
  return new Map(rows.map((row) => [row.lead_id, row.status]));
}

async function settled(rig: EnrichmentRig, expected: Record<string, string>) {
  await until(`statuses ${JSON.stringify(expected)}`, async () => {
    const now = await statuses(rig);
    return Object.entries(expected).every(([lead, status]) => now.get(lead) === status);
  });
}

async function signIn(page: Page, token: string) {
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Opens `path` signed in, in a context that allows axe's inline script, and checks it. */
async function audit(browser: Browser, baseUrl: string, path: string, name: string) {
  for (const [label, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    const context = await browser.newContext({ viewport, bypassCSP: true });
    await context.addInitScript(
      (token) => sessionStorage.setItem('c2s-enricher.admin-token', token),
      ADMIN_TOKEN,
    );
    const page = await context.newPage();
    await page.goto(`${baseUrl}${path}`);
    await page.locator('main h1').waitFor();
    await page.waitForLoadState('networkidle');
    await screenshot(page, `${name}-${label}`);
    const violations = await seriousViolations(page);
    assert.deepEqual(violations, [], `${name} (${label}): no serious accessibility violation`);
    if (label === 'phone') {
      const overflow = await page.evaluate(() => {
        const { document, innerWidth } = globalThis as any;
        return (document.documentElement.scrollWidth as number) - (innerWidth as number);
      });
      assert.ok(overflow <= 0, `${name}: no horizontal scroll at 360 px (overflow ${overflow} px)`);
    }
    await context.close();
  }
}

test('the dashboard: sign in, find a failure, reprocess it, replay the rest, at desktop and phone width', async (t) => {
  const rig = await startEnrichment(t);
  for (const lead of GONE) rig.c2s.removeLead(lead);
  await rig.service.post([...GONE, ...FINE].map((leadId) => rig.lead('phone_only', { leadId }).event));
  await settled(rig, {
    ...Object.fromEntries(GONE.map((lead) => [lead, 'failed'])),
    ...Object.fromEntries(FINE.map((lead) => [lead, 'completed'])),
  });

  const browser = await launchBrowser(t);
  // The page as an operator meets it: its own content security policy in force.
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  const urls: string[] = [];
  page.on('request', (request) => urls.push(request.url()));

  // Sign in: a wrong token is refused with a clear message, the right one opens the overview.
  await page.goto(`${rig.service.url}/admin`);
  await signIn(page, 'not-the-token');
  await page.getByText('That token is not right.').waitFor();
  // From here on, no console error at all (the refused token's 401 was the expected one).
  const problems: string[] = [];
  page.on('console', (entry) => {
    if (entry.type() === 'error') problems.push(entry.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await signIn(page, ADMIN_TOKEN);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  const failedCard = page.locator('.card', { has: page.getByRole('link', { name: 'failed' }) });
  assert.equal((await failedCard.locator('.value').textContent())?.trim(), String(GONE.length));
  await page.getByRole('heading', { name: 'C2S' }).waitFor();
  await screenshot(page, 'overview-signed-in');

  // Find a failed event by filtering, open it: its timeline and its error.
  await page.getByRole('link', { name: 'Events', exact: true }).click();
  await page.getByLabel('Status').selectOption('failed');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/status=failed/);
  const rows = page.locator('main table tbody tr');
  await until('three failed rows', async () => (await rows.count()) === GONE.length);
  assert.equal(await page.locator('main table tbody td', { hasText: 'c2s_not_found' }).count(), GONE.length);
  const first = GONE[0]!;
  await page.locator('main table tbody tr', { hasText: first }).getByRole('link').first().click();
  await page.getByRole('heading', { name: 'Event' }).waitFor();
  await page.getByRole('alert').filter({ hasText: 'c2s_not_found' }).waitFor();
  await screenshot(page, 'event-failed');
  const postNote = page.locator('main table tbody tr', { hasText: 'post_note' });
  assert.match((await postNote.textContent()) ?? '', /failed/);
  assert.match((await page.locator('main table').textContent()) ?? '', /find_cpf.*succeeded/s);

  // Reprocess it once C2S has the lead again: it completes, with one note.
  rig.c2s.restoreLead(first);
  await page.getByRole('button', { name: 'Reprocess' }).click();
  await page.getByText('Queued again').waitFor();
  await page.locator('main dd .badge.completed').waitFor({ timeout: 20_000 });
  assert.equal(rig.c2s.notes(first).length, 1);

  // Replay the other failures of the code: the confirmation shows the count first.
  for (const lead of GONE.slice(1)) rig.c2s.restoreLead(lead);
  await page.getByRole('link', { name: 'Failures' }).click();
  await page.getByRole('heading', { name: 'Failures' }).waitFor();
  await page.getByRole('button', { name: 'Replay all c2s_not_found' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  assert.match((await dialog.textContent()) ?? '', /2 failed events have this code; 2 of them can run again/);
  await screenshot(page, 'failures-replay-confirmation');
  await dialog.getByRole('button', { name: 'Replay 2' }).click();
  await page.getByText('2 of 2 events queued again').waitFor();
  await settled(rig, Object.fromEntries([...GONE, ...FINE].map((lead) => [lead, 'completed'])));
  for (const lead of [...GONE, ...FINE]) assert.equal(rig.c2s.notes(lead).length, 1, `${lead}: one note`);

  // A lead's history, found from the search box.
  await page.getByLabel('Lead id').fill(FINE[2]!);
  await page.getByRole('button', { name: 'Find lead' }).click();
  await page.getByRole('heading', { name: 'Lead' }).waitFor();
  await page.getByRole('cell', { name: /sent/ }).first().waitFor();

  // Signing out forgets the token.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Admin token').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  await page.reload();
  await page.getByLabel('Admin token').waitFor();

  assert.deepEqual(problems, [], 'no script error and no content security policy violation');
  assert.ok(
    urls.every((url) => !url.includes(ADMIN_TOKEN)),
    'the token never appears in a URL',
  );
  await context.close();

  // Every page at both widths: screenshots, accessibility, no sideways scroll on a phone.
  const { rows: ids } = await rig.service.db.pool.query<{ id: string }>(
    'SELECT id FROM webhook_events WHERE lead_id = $1',
    [first],
  );
  await audit(browser, rig.service.url, '/admin', 'overview');
  await audit(browser, rig.service.url, '/admin/events', 'events');
  await audit(browser, rig.service.url, `/admin/events/${ids[0]!.id}`, 'event');
  await audit(browser, rig.service.url, '/admin/failures', 'failures');
  await audit(browser, rig.service.url, `/admin/leads/${FINE[2]}`, 'lead');
});

test('the dashboard is served from the service itself: no CDN, locked down by its policy', async (t) => {
  const rig = await startEnrichment(t);
  const page = await fetch(`${rig.service.url}/admin/events`);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'every asset is local');
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  for (const asset of ['app.js', 'app.css', 'uPlot.js', 'uPlot.css']) {
    const response = await fetch(`${rig.service.url}/admin/assets/${asset}`);
    assert.equal(response.status, 200, asset);
    const again = await fetch(`${rig.service.url}/admin/assets/${asset}`, {
      headers: { 'if-none-match': response.headers.get('etag') ?? '' },
    });
    assert.equal(again.status, 304, `${asset}: revalidated, not sent again`);
  }
  assert.equal((await fetch(`${rig.service.url}/admin/assets/nope.js`)).status, 404);
});

test('a note kept by DRY_RUN is shown on its event page with its text', async (t) => {
  const rig = await startEnrichment(t, { DRY_RUN: 'true' });
  await rig.service.post(rig.lead('phone_only', { leadId: 'dry-run-lead' }).event);
  await settled(rig, { 'dry-run-lead': 'completed' });
  const {
    rows: [event],
  } = await rig.service.db.pool.query<{ id: string }>(
    `SELECT id FROM webhook_events WHERE lead_id = 'dry-run-lead'`,
  );
  const { rows: kept } = await rig.service.db.pool.query<{ body: string }>(`SELECT body FROM notes`);
  assert.equal(kept.length, 1);

  const browser = await launchBrowser(t);
  const context = await browser.newContext({ viewport: PHONE });
  await context.addInitScript(
    (token) => sessionStorage.setItem('c2s-enricher.admin-token', token),
    ADMIN_TOKEN,
  );
  const page = await context.newPage();
  await page.goto(`${rig.service.url}/admin/events/${event!.id}`);
  const section = page.getByRole('region', { name: 'Dry-run note' });
  await section.waitFor();
  assert.equal((await section.locator('pre').textContent())?.trim(), kept[0]!.body.trim());
  assert.match((await page.locator('main').textContent()) ?? '', /dry run/);
  await context.close();
  await audit(browser, rig.service.url, `/admin/events/${event!.id}`, 'event-dry-run');
});
