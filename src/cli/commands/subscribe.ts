import { HOOK_ACTIONS } from '../../admin/filter.ts';
import { redactUrl } from '../../log/mask.ts';
import {
  CommandFailure,
  defineCommand,
  text,
  UsageError,
  type CommandArgs,
  type CommandContext,
} from '../command.ts';

type Verb = 'subscribe' | 'unsubscribe';

/** `--url`: an http(s) URL, which is all C2S accepts as a hook. */
function hookUrl(args: CommandArgs): string {
  const url = text(args, 'url');
  if (url === undefined) throw new UsageError('--url <hook url> is required');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError('--url must be an absolute http(s) URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new UsageError('--url must be an absolute http(s) URL');
  return url;
}

/**
 * (Un)subscribes the hook URL for every action the service handles, one call per action. The
 * URL may carry the webhook token (`?token=`): it is printed redacted.
 */
async function changeSubscription(verb: Verb, url: string, context: CommandContext): Promise<void> {
  const { config, stdout } = context;
  if (config.providers.demo)
    throw new CommandFailure(
      `no C2S credentials are configured (demo mode): set C2S_TOKEN and the other provider variables to ${verb}`,
    );
  // Loaded here: the provider clients (undici, cockatiel, metrics) serve only this command.
  const [{ createProviders, providerEndpoints }, { createMetrics }] = await Promise.all([
    import('../../providers/setup.ts'),
    import('../../metrics.ts'),
  ]);
  const providers = createProviders(providerEndpoints(config.providers), createMetrics());
  const done: string[] = [];
  try {
    for (const action of HOOK_ACTIONS) {
      try {
        await providers.c2s[verb](url, action);
      } catch (error) {
        const before = done.length > 0 ? ` (${done.join(', ')} done)` : '';
        throw new CommandFailure(`${action} failed${before}: ${(error as Error).message}`);
      }
      done.push(action);
      stdout.write(`${verb}d ${action}\n`);
    }
  } finally {
    await providers.close();
  }
  stdout.write(`${verb}: ${done.length} hook actions ${verb}d for ${redactUrl(url)}\n`);
}

const subscription = (verb: Verb, summary: string) =>
  defineCommand({
    name: verb,
    summary,
    synopsis: '--url <hook url>',
    details: `  --url <hook url>  the service's webhook URL as C2S should call it\n  Actions: ${HOOK_ACTIONS.join(', ')}.`,
    options: { url: { type: 'string' } },
    parse: hookUrl,
    run: (url, context) => changeSubscription(verb, url, context),
  });

export const subscribe = subscription(
  'subscribe',
  'subscribe a hook URL in C2S for new, updated and closed leads',
);
export const unsubscribe = subscription('unsubscribe', 'remove the hook URL from C2S for those actions');
