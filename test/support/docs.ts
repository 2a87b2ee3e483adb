import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The shell blocks of the docs, and a bash session to run them in (test/api/docs-commands.test.ts).
 *
 * Every ```sh block (or bash, shell) says after its language whether a test runs it:
 *   ```sh runnable                   run, in order with the file's other runnable blocks
 *   ```sh runnable expect=sold_out   run; every curl in it must answer the problem `sold_out`
 *   ```sh manual                     not run: it starts servers, needs Docker, wrk, a terminal…
 */

/** The files whose commands are checked: README.md, docs/*.md, bench/README.md. */
export function docFiles(root: string): string[] {
  const docs = readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs, 'bench/README.md'];
}

export interface ShellBlock {
  /** Where it is: `docs/api.md:42` (the line of its opening fence). */
  where: string;
  /** The words after the language: `runnable`, `manual`, `expect=<code>`. */
  marks: string[];
  runnable: boolean;
  /** The problem code every curl of the block must answer, for a block that shows a refusal. */
  expect: string | undefined;
  code: string;
}

const SHELLS = new Set(['sh', 'bash', 'shell']);

/** Every fenced shell block of a Markdown file, with its marks; other languages are not commands. */
export function shellBlocks(root: string, file: string): ShellBlock[] {
  const lines = readFileSync(path.join(root, file), 'utf8').split('\n');
  const blocks: ShellBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(\S*)\s*(.*)$/.exec(lines[index]!);
    if (!open) continue;
    const [, indent, fence, language, rest] = open as unknown as [string, string, string, string, string];
    const body: string[] = [];
    let end = index + 1;
    while (end < lines.length && !new RegExp(`^\\s*${fence[0]}{${fence.length},}\\s*$`).test(lines[end]!)) {
      body.push(lines[end]!.startsWith(indent) ? lines[end]!.slice(indent.length) : lines[end]!);
      end++;
    }
    if (SHELLS.has(language)) {
      const marks = rest.split(/\s+/).filter(Boolean);
      blocks.push({
        where: `${file}:${index + 1}`,
        marks,
        runnable: marks.includes('runnable'),
        expect: marks.find((mark) => mark.startsWith('expect='))?.slice('expect='.length),
        code: body.join('\n'),
      });
    }
    index = end;
  }
  return blocks;
}

/** What is wrong with a block's marks, if anything: each block is runnable or manual, knowingly. */
export function markProblem(block: ShellBlock): string | undefined {
  const unknown = block.marks.filter((mark) => mark !== 'runnable' && mark !== 'manual' && !/^expect=\w+$/.test(mark));
  if (unknown.length > 0) return `unknown mark ${unknown.join(' ')}`;
  const runnable = block.marks.includes('runnable');
  if (runnable === block.marks.includes('manual')) return 'mark it runnable or manual';
  if (block.expect !== undefined && !runnable) return 'expect= is for runnable blocks';
  return undefined;
}

// Run before the docs' blocks: strict bash, and curl failing on an HTTP error (the body is still
// printed), or, in a block marked expect=<code>, succeeding only on that problem.
const PRELUDE = String.raw`
set -euo pipefail
curl() {
  if [ -z "$DOCS_EXPECT" ]; then
    command curl --fail-with-body --max-time 10 "$@"
    return
  fi
  local body status=0
  body=$(command curl --fail-with-body --max-time 10 "$@") || status=$?
  printf '%s\n' "$body"
  if [ "$status" -ne 22 ] || [[ "$body" != *"\"code\":\"$DOCS_EXPECT\""* ]]; then
    echo "docs test: expected the problem $DOCS_EXPECT, got curl exit $status" >&2
    return 1
  fi
}
DOCS_EXPECT=
`;

const DONE = '::docs-block-done::';

/**
 * One bash process for one doc: its blocks run in it one after another, so a variable one
 * block captures is there for the next. A command that fails ends the shell, and with it the
 * blocks after it.
 */
export class DocShell {
  private readonly child: ChildProcess;
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'seat-hold-docs-'));
  private output = '';
  private exited: string | undefined;
  private blocks = 0;
  private onChange: () => void = () => {};

  constructor(env: Record<string, string>) {
    this.child = spawn('bash', ['--noprofile', '--norc'], { cwd: this.dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const append = (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
      this.onChange();
    };
    this.child.stdout!.on('data', append);
    this.child.stderr!.on('data', append);
    this.child.on('exit', (code, signal) => {
      this.exited = `bash exited (${code ?? signal})`;
      this.onChange();
    });
    this.child.stdin!.on('error', () => {}); // written to after it exited: reported by run()
    this.child.stdin!.write(PRELUDE);
  }

  /** Runs a block; resolves with its output, or rejects with it when a command failed. */
  async run(block: ShellBlock, timeoutMs: number): Promise<string> {
    if (this.exited) throw new Error(`not run: an earlier block of this file failed (${this.exited})`);
    const file = path.join(this.dir, `block-${++this.blocks}.sh`);
    writeFileSync(file, `${block.code}\n`);
    const start = this.output.length;
    const expect = block.expect ?? '';
    this.child.stdin!.write(
      `DOCS_EXPECT='${expect}'; source '${file}' </dev/null; DOCS_EXPECT=; echo; echo '${DONE}'\n`,
    );
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`timed out after ${timeoutMs} ms:\n${this.output.slice(start)}`));
      }, timeoutMs);
      this.onChange = () => {
        const output = this.output.slice(start);
        if (output.includes(DONE)) {
          clearTimeout(timer);
          resolve(output.slice(0, output.indexOf(DONE)));
        } else if (this.exited) {
          clearTimeout(timer);
          reject(new Error(`${block.where} failed (${this.exited}):\n${output.slice(-8000)}`));
        }
      };
      this.onChange();
    });
  }

  close(): void {
    if (!this.exited) this.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
