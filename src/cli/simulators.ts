// `npm run simulators`: C2S, Diretrix and the Work API simulators on fixed ports, for a demo or
// a benchmark against a service started separately. Stops cleanly on SIGINT / SIGTERM.
import { startC2sSimulator } from '../simulators/c2s.ts';
import { startDiretrixSimulator } from '../simulators/diretrix.ts';
import { createPopulation } from '../simulators/population.ts';
import { startWorkApiSimulator } from '../simulators/workapi.ts';

const env = process.env;

function port(name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    process.stderr.write(`${name} must be a port number (0-65535), not ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return value;
}

/** A credential from the environment, or the demo default; `shown` never echoes a real one. */
function credential(name: string, fallback: string): { value: string; shown: string } {
  const value = env[name];
  return value ? { value, shown: '<as set in your environment>' } : { value: fallback, shown: fallback };
}

const host = env.SIM_HOST ?? '127.0.0.1';
const seed = env.SIM_SEED ? Number(env.SIM_SEED) : 42;
const population = createPopulation({ seed });
const c2sToken = credential('C2S_TOKEN', 'demo-token');
const user = credential('DIRETRIX_USER', 'demo');
const pass = credential('DIRETRIX_PASS', 'demo');
const workToken = credential('WORK_API', 'demo-token');

const c2s = await startC2sSimulator({ token: c2sToken.value, port: port('SIM_C2S_PORT', 4010), host });
const diretrix = await startDiretrixSimulator({
  user: user.value,
  pass: pass.value,
  population,
  port: port('SIM_DIRETRIX_PORT', 4020),
  host,
});
const workApi = await startWorkApiSimulator({
  token: workToken.value,
  population,
  port: port('SIM_WORKAPI_PORT', 4030),
  host,
});

process.stdout.write(
  [
    `C2S simulator       ${c2s.url}`,
    `Diretrix simulator  ${diretrix.url}`,
    `Work API simulator  ${workApi.url}`,
    `Population: ${population.people.length} people, seed ${population.seed}`,
    '',
    'Point the service at them with:',
    `C2S_BASE_URL=${c2s.url}`,
    `C2S_TOKEN=${c2sToken.shown}`,
    `DIRETRIX_BASE_URL=${diretrix.url}`,
    `DIRETRIX_USER=${user.shown}`,
    `DIRETRIX_PASS=${pass.shown}`,
    `WORK_API_BASE_URL=${workApi.url}`,
    `WORK_API=${workToken.shown}`,
    '',
    'Sample leads (one per scenario):',
    ...population
      .sampleLeads()
      .map(
        ({ scenario, leadId, attributes: { customer } }) =>
          `  ${scenario.padEnd(20)} ${leadId}  phone=${customer.phone ?? '-'}  email=${customer.email ?? '-'}`,
      ),
    '',
    'Faults: POST <simulator>/_sim/faults {"route": "...", "fault": {"kind": "hang"}}. Ctrl-C stops.',
    '',
  ].join('\n'),
);

let stopping = false;
async function stop(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`${signal}: stopping the simulators\n`);
  await Promise.all([c2s.close(), diretrix.close(), workApi.close()]);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stop(signal).catch((error: unknown) => {
      process.stderr.write(`stopping failed: ${(error as Error).message}\n`);
      process.exitCode = 1;
    });
  });
}
