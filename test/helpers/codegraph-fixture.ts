import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GraphSnapshot } from '../../core/codegraph';
import { runCommand } from '../../cli/command';
import { command as graph } from '../../cli/commands/graph';

/** A real git repository in a temp dir, with commits by named authors. */
export class TempRepo {
  readonly dir: string;
  constructor(prefix = 'maestro-graph-') {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.git('init', '-q', '-b', 'main');
  }
  git(...args: string[]): string {
    return execFileSync('git', ['-C', this.dir, '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).trim();
  }
  write(files: Record<string, string | null>): void {
    for (const [file, text] of Object.entries(files)) {
      const full = path.join(this.dir, file);
      if (text === null) fs.rmSync(full, { force: true });
      else {
        fs.mkdirSync(path.dirname(full), { recursive: true });
        fs.writeFileSync(full, text);
      }
    }
  }
  commit(files: Record<string, string | null>, author = 'alice', message = 'change'): string {
    this.write(files);
    this.git('add', '-A', '-f');
    this.git('-c', `user.name=${author}`, '-c', `user.email=${author}@example.com`, 'commit', '-q', '--allow-empty', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }
  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A snapshot in a canonical order, for comparing stores. */
export function canonical(s: GraphSnapshot) {
  const by = <T>(key: (t: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
  return {
    files: [...s.files].sort(by((f) => f.path)),
    symbols: [...s.symbols].sort(by((x) => x.id)),
    owners: [...s.owners].sort(by((o) => o.id)),
    edges: [...s.edges].sort(by((e) => `${e.type} ${e.from} ${e.to}`)),
    owns: [...s.owns].sort(by((o) => `${o.owner} ${o.file} ${o.source}`)),
  };
}

/** A small service: a hub (util), a class with methods, a barrel, a test, CODEOWNERS and a broken file. */
export const SERVICE: Record<string, string> = {
  '.github/CODEOWNERS': '# owners\n*.ts @core\nsrc/db/ @data-team alice@example.com\n',
  'src/util.ts': 'export function twice(n: number) { return n * 2; }\nexport const half = (n: number) => n / 2;\nexport const LIMIT = 3;\n',
  'src/db/store.ts':
    "import { twice } from '../util';\nexport class Store {\n  get(k: string) { return this.load(k) + twice(1); }\n  load(k: string) { return k.length; }\n}\n",
  'src/db/index.ts': "export * from './store';\nexport { twice as double } from '../util';\n",
  'src/service.ts':
    "import { Store, double } from './db';\nimport * as u from './util';\nexport function handle(k: string) { return new Store().get(k) + u.half(2) + double(3); }\nexport default function main() { return handle('x'); }\n",
  'src/server.ts': "import main from './service';\nconsole.log(main());\n",
  'src/broken.ts': "import { twice } from './util';\nexport const = ;\n",
  'test/service.test.ts': "import { handle } from '../src/service';\nhandle('t');\n",
  'README.md': '# svc\n',
};

/** A repository with two commits (alice writes the service, bob extends util.ts): the graph CLI tests' input. */
export function twoCommitRepo(): { repo: TempRepo; head: string } {
  const repo = new TempRepo();
  repo.commit(SERVICE, 'alice');
  const head = repo.commit({ 'src/util.ts': SERVICE['src/util.ts'] + 'export function third(n: number) { return n / 3; }\n' }, 'bob');
  return { repo, head };
}

/** `maestro graph <argv>` in-process: exit code and output. */
export async function runGraph(...argv: string[]): Promise<{ code: number; out: string; lines: string[] }> {
  const lines: string[] = [];
  const print = (l: string) => void lines.push(...l.split('\n'));
  const code = await runCommand(graph, argv, { print, error: print });
  return { code, out: lines.join('\n'), lines };
}
