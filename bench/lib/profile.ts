import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Self time of the newest CPU profile in dir, by function and by package (--profile). */
export function printProfile(dir: string): void {
  const newest = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => path.join(dir, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!newest) return;
  const profile = JSON.parse(readFileSync(newest, 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const frame = nodes.get(id)!;
    const time = profile.timeDeltas[index] ?? 0;
    const where = frame.url.includes('node_modules/')
      ? frame.url.split('node_modules/')[1]!
      : frame.url.replace(/^.*\/(dist|src)\//, '$1/');
    const pkg = frame.url.includes('node_modules/')
      ? where
          .split('/')
          .slice(0, where.startsWith('@') ? 2 : 1)
          .join('/')
      : where.startsWith('dist/')
        ? 'seat-hold (dist/)'
        : frame.url === ''
          ? frame.functionName
          : 'node internals';
    const key = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + time);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + time);
    total += time;
  });
  const top = (map: Map<string, number>, count: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([key, time]) => `  ${((100 * time) / total).toFixed(1).padStart(5)}%  ${key}`)
      .join('\n');
  process.stdout.write(
    `\nCPU profile ${newest}\nby package:\n${top(byPackage, 12)}\nby function:\n${top(byFunction, 15)}\n`,
  );
}
