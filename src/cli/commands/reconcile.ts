// Catches up on missed webhooks: lists the C2S leads updated in a window and stores every
// (lead, updated_at) not stored yet as a new event, as the service does on its schedule.
import { parseInstant } from '../../admin/filter.ts';
import { ProviderError } from '../../errors.ts';
import { reconcile as reconcileWindow, type ReconcileProgress } from '../../reconcile/reconcile.ts';
import { withReconcileLock } from '../../reconcile/runs-repository.ts';
import { CommandFailure, defineCommand, flag, text, UsageError, type CommandArgs } from '../command.ts';
import { withDatabase } from '../database.ts';
import { createProgress } from '../progress.ts';
import { instantArgument } from '../time.ts';

interface ReconcileInput {
  readonly since: Date;
  readonly until: Date;
  readonly dryRun: boolean;
}

function instant(args: CommandArgs, name: string, now: Date): Date | undefined {
  const raw = text(args, name);
  if (raw === undefined) return undefined;
  return new Date(parseInstant(`--${name}`, instantArgument(name, raw, now)).getTime());
}

export const reconcile = defineCommand<ReconcileInput>({
  name: 'reconcile',
  summary: 'list C2S leads updated in a window and store those no webhook brought as new events',
  synopsis: '--since <RFC 3339 | 24h> [--until <RFC 3339 | 1h>] [--dry-run]',
  details: `  --since <time>  start of the window: an RFC 3339 date-time, or 24h / 7d before now
  --until <time>  end of the window (default: now)
  --dry-run       list and compare, store nothing: print the events that would be stored
  Every lead C2S lists as updated in the window whose (lead id, updated_at) is not stored yet
  becomes an event (on_update_lead, source reconcile) that the workers run as any webhook.
  Listing is paced under C2S's limit (C2S_LIST_RATE_PER_MINUTE, about 50 leads a call): a day
  of 5,000 leads takes about 11 minutes. The service does the same every
  RECONCILE_INTERVAL_MINUTES; one reconciliation runs at a time.`,
  options: { since: { type: 'string' }, until: { type: 'string' }, 'dry-run': { type: 'boolean' } },
  parse(args, clock) {
    const now = clock();
    const since = instant(args, 'since', now);
    if (since === undefined) throw new UsageError('--since <RFC 3339 date-time> is required');
    const until = instant(args, 'until', now) ?? now;
    if (since.getTime() >= until.getTime()) throw new UsageError('--since must be before --until (or now)');
    return { since, until, dryRun: flag(args, 'dry-run') };
  },
  async run({ since, until, dryRun }, context) {
    const { config, stdout, stderr } = context;
    if (config.providers.demo)
      throw new CommandFailure(
        'no C2S credentials are configured (demo mode): set C2S_TOKEN and the other provider variables to reconcile',
      );
    // Loaded here: the provider clients (undici, cockatiel, metrics) serve only C2S commands.
    const [{ createProviders, providerEndpoints }, { createMetrics }, { createWaker }] = await Promise.all([
      import('../../providers/setup.ts'),
      import('../../metrics.ts'),
      import('../../queue/wakeups.ts'),
    ]);
    const providers = createProviders(providerEndpoints(config.providers), createMetrics());
    const bar = createProgress({ label: dryRun ? 'listing (dry run)' : 'reconciling', stream: stderr });
    let progress: ReconcileProgress | undefined;
    let outcome;
    try {
      outcome = await withDatabase(context, (db) =>
        withReconcileLock(db, (client) =>
          reconcileWindow({
            db: client,
            c2s: providers.c2s,
            window: { since, until },
            dryRun,
            requestId: `reconcile-cli-${context.now().toISOString()}`,
            wake: createWaker(db),
            onPage: (current) => {
              progress = current;
              bar.update(
                current.listed,
                `listed (page ${current.pages}: ${current.new} new, ${current.known} known)`,
              );
            },
            onWouldStore: ({ leadId, updatedAt }) => stdout.write(`would store ${leadId} ${updatedAt}\n`),
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      const sofar =
        progress === undefined
          ? 'nothing was listed'
          : `${progress.pages} page(s) were listed first${dryRun ? '' : `, their ${progress.new} new event(s) are stored`}`;
      throw new CommandFailure(`C2S cannot be reached or refused the listing (${error.message}); ${sofar}`);
    } finally {
      bar.finish();
      await providers.close();
    }
    if (!outcome.locked)
      throw new CommandFailure(
        'another reconciliation is running (the service reconciles every RECONCILE_INTERVAL_MINUTES); try again when it ends',
      );
    const found = outcome.value;
    if (found.invalid > 0)
      stderr.write(
        `${found.invalid} listed lead(s) have an id or updated_at no event can have: passed over\n`,
      );
    stdout.write(
      `reconcile: listed ${found.listed}, new ${found.new}, known ${found.known}${dryRun ? ' (dry run)' : ''}\n`,
    );
  },
});
