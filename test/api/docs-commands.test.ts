import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestApp, type TestContext } from '../helpers.js';
import { DocShell, docFiles, markProblem, shellBlocks } from '../support/docs.js';

// Every command the docs mark runnable runs here, against a real API process on a fresh
// database, so a doc that drifts from the API fails CI. The convention (docs/README.md):
//   ```sh runnable                   run, in order with the file's other runnable blocks
//   ```sh runnable expect=sold_out   run; every curl in it must answer the problem sold_out
//   ```sh manual                     not run (it starts servers, needs Docker, wrk, …)
// Each file's runnable blocks run in order in one bash shell (set -euo pipefail), with API
// and KEY set as the docs assume (the API's URL, the admin key); curl fails on an HTTP error.

const root = process.cwd();
const docs = docFiles(root).map((file) => ({ file, blocks: shellBlocks(root, file) }));
const BLOCK_TIMEOUT_MS = 20_000;

let ctx: TestContext;
let api: string;

beforeAll(async () => {
  // The webhook examples register a receiver on 127.0.0.1, as a local try-out does; nothing is sent
  // (this app has no delivery loop), so the test talks to nothing but its own API.
  ctx = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
  api = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await ctx?.close();
});

describe('the docs’ shell blocks', () => {
  it('are each marked runnable or manual', () => {
    const problems = docs.flatMap(({ blocks }) =>
      blocks.flatMap((block) => {
        const problem = markProblem(block);
        return problem ? [`${block.where}: ${problem}`] : [];
      }),
    );
    expect(problems).toEqual([]);
  });

  it('include the README’s tour and the API reference’s examples', () => {
    const runnable = (file: string) => docs.find((doc) => doc.file === file)!.blocks.filter((block) => block.runnable);
    expect(runnable('README.md').length).toBeGreaterThanOrEqual(1);
    expect(runnable('docs/api.md').length).toBeGreaterThanOrEqual(10);
    expect(runnable('docs/api.md').some((block) => block.expect !== undefined)).toBe(true);
  });
});

for (const { file, blocks } of docs) {
  const runnable = blocks.filter((block) => block.runnable);
  if (runnable.length === 0) continue;
  describe(`${file}, pasted in order`, () => {
    let shell: DocShell | undefined;
    afterAll(() => shell?.close());
    for (const block of runnable) {
      it(block.where + (block.expect ? ` (answers ${block.expect})` : ''), async () => {
        shell ??= new DocShell({
          API: api,
          KEY: ADMIN_KEY,
          PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
          HOME: process.env.HOME ?? '/tmp',
          LANG: 'C.UTF-8',
        });
        await shell.run(block, BLOCK_TIMEOUT_MS);
      });
    }
  });
}
