// `npm run smoke -- <base-url>`: the eight webhook checks against a running deployment.
// The secret comes from WEBHOOK_SECRET (the first one when several are set), else, as for
// `npm run demo`, from the one a start without WEBHOOK_SECRET generated in DATA_DIR.
import { dataDirOf, environmentWithDotenv } from '../config.ts';
import { runSmokeChecks } from '../smoke.ts';
import { keptSecret, secretFile } from '../webhooks/auth.ts';

const env = environmentWithDotenv();
const baseUrl = process.argv[2];
const secret = env.WEBHOOK_SECRET?.split(',')[0]?.trim() || keptSecret(dataDirOf(env));
if (!baseUrl || !/^https?:\/\//.test(baseUrl) || !secret) {
  process.stderr.write(
    'usage: [WEBHOOK_SECRET=...] npm run smoke -- http://127.0.0.1:8080\n' +
      `(without WEBHOOK_SECRET the secret is read from ${secretFile(dataDirOf(env))})\n`,
  );
  process.exit(2);
}

const results = await runSmokeChecks(baseUrl, secret);
for (const check of results) {
  process.stdout.write(
    `${check.passed ? 'PASS' : 'FAIL'}  ${check.name}${check.passed ? '' : `  (${check.detail})`}\n`,
  );
}
const failed = results.filter((check) => !check.passed).length;
process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 ? 0 : 1;
