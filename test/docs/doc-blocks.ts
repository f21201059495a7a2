/**
 * Extracts the ```ts blocks of the docs and type-checks them against the library's source, so a
 * renamed option or export breaks a test instead of a reader's first build.
 *
 * The convention (also in docs/guide.md, "Code blocks in these docs"):
 *
 * - Every ```ts (or ```typescript) block is a module of its own, compiled with the repo's
 *   tsconfig.json (strict) plus top-level `await`, `nestjs-durin` mapped to lib/index.ts and
 *   `nestjs-durin/*` to lib/*.
 * - A block may leave out the imports every reader has: for each name the block uses but neither
 *   imports nor declares, the checker adds the import, from the library's exports (lib/index.ts),
 *   from {@link COMMON_IMPORTS} (Nest, TypeORM, throttler, Redis, the reader's app in
 *   test/docs/app/src: `User`, `AppModule`, `tokenService`…), `bcrypt` and `request` (supertest).
 *   The added lines go after the block, so a diagnostic's line is the block's own. Jest's globals
 *   are there too (the repo's `types`).
 * - Relative imports resolve as from a file in test/docs/app/src: `./users/user.entity`,
 *   `../src/app.module`.
 * - So a block must be complete TypeScript: statements, declarations, a whole class. A fragment
 *   that is not (`providers: [...]`, a method on its own) is shown in a complete form instead, or,
 *   when that would hurt the prose, marked skipped on the line right before its fence, with a
 *   reason: `<!-- ts-check: skip (why) -->`. The marker is an HTML comment, invisible on GitHub
 *   and npm.
 * - The test fails when an unmarked block does not compile, when a marker has no reason or is not
 *   understood, and when a skipped block compiles after all (drop the marker then).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ts from 'typescript';

export const REPO_ROOT = resolve(__dirname, '..', '..');
/**
 * Where the blocks "live": in the `src/` of the reader's app (test/docs/app), so `./users/user.entity`
 * and, from a test file, `../src/app.module` resolve.
 */
const APP_DIR = join(REPO_ROOT, 'test', 'docs', 'app', 'src');

export interface DocBlock {
  /** Repo-relative markdown file. */
  file: string;
  /** 1-based line of the block's first code line in the markdown file. */
  line: number;
  code: string;
  /** Why the block is not compiled; undefined for a checked block. */
  skipReason?: string;
  /** A marker the checker does not understand (fails the test). */
  badMarker?: string;
}

const FENCE_OPEN = /^\s*```(ts|typescript)\s*$/;
const MARKER = /^<!--\s*ts-check:\s*(.*?)\s*-->$/;
const SKIP = /^skip\s*\((.+)\)$/;

/** Every ```ts block of one markdown file, with the marker on the line before its fence. */
export function extractBlocks(file: string): DocBlock[] {
  return parseBlocks(file, readFileSync(join(REPO_ROOT, file), 'utf8'));
}

/** {@link extractBlocks} of a markdown text. */
export function parseBlocks(file: string, markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  let openFence: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (openFence !== null) {
      if (line.trim() === openFence) openFence = null;
      continue;
    }
    const fence = /^\s*(`{3,}|~{3,})/.exec(line);
    if (!fence) continue;
    if (!FENCE_OPEN.test(line)) {
      openFence = fence[1];
      continue;
    }
    // A block in a list item is indented; its code is compiled without that indentation.
    const indent = /^\s*/.exec(line)![0];
    const end = lines.findIndex((l, j) => j > i && l.trim() === '```');
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed code block`);
    const code = lines
      .slice(i + 1, end)
      .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
      .join('\n');
    const block: DocBlock = { file, line: i + 2, code };
    const marker = MARKER.exec((lines[i - 1] ?? '').trim());
    if (marker) {
      const skip = SKIP.exec(marker[1]);
      if (skip && skip[1].trim() !== '') block.skipReason = skip[1].trim();
      else block.badMarker = marker[0];
    }
    blocks.push(block);
    i = end;
  }
  return blocks;
}

/** Names a snippet may use without importing them, and where they come from. */
export const COMMON_IMPORTS: Readonly<Record<string, string>> = {
  ...from('@nestjs/common', [
    'Body',
    'CallHandler',
    'Controller',
    'Delete',
    'ExecutionContext',
    'Get',
    'HttpCode',
    'HttpStatus',
    'INestApplication',
    'Inject',
    'Injectable',
    'Logger',
    'Module',
    'NestInterceptor',
    'Param',
    'Patch',
    'Post',
    'Put',
    'Req',
    'Res',
    'UseFilters',
    'UseGuards',
    'UseInterceptors',
  ]),
  ...from('@nestjs/core', ['APP_GUARD', 'NestFactory', 'RouterModule']),
  ...from('@nestjs/config', ['ConfigModule', 'ConfigService']),
  ...from('@nestjs/typeorm', ['InjectRepository', 'TypeOrmModule']),
  ...from('typeorm', ['Column', 'DataSource', 'Entity', 'PrimaryGeneratedColumn', 'Repository']),
  ...from('@nestjs/throttler', ['ThrottlerGuard', 'ThrottlerModule', 'Throttle', 'SkipThrottle']),
  ...from('@nest-lab/throttler-storage-redis', ['ThrottlerStorageRedisService']),
  ...from('ioredis', ['Redis']),
  ...from('@nestjs/websockets', ['SubscribeMessage', 'WebSocketGateway']),
  ...from('@nestjs/testing', ['Test', 'TestingModule']),
  ...from('@nestjs/swagger', ['DocumentBuilder', 'SwaggerModule']),
  ...from('./reader-app', [
    'Admin',
    'AuditInterceptor',
    'CreateUsers1700000000000',
    'User',
    'config',
    'tokenService',
    'tokens',
    'user',
    'users',
  ]),
  ...from('./app.module', ['AppModule']),
  ...from('./orders.controller', ['OrdersController']),
  ...from('./orders.service', ['OrdersService']),
  ...from('./user.validator', ['UserValidator']),
};

/** Namespace imports: `bcrypt.compare(...)` (bcryptjs has bcrypt's API). */
const NAMESPACE_IMPORTS: Readonly<Record<string, string>> = { bcrypt: 'bcryptjs' };

/** Default imports: `request(app.getHttpServer())`. */
const DEFAULT_IMPORTS: Readonly<Record<string, string>> = { request: 'supertest' };

function from(module: string, names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, module]));
}

/** The names lib/index.ts exports (it lists them all; no `export *`). */
export function libraryExports(): string[] {
  const path = join(REPO_ROOT, 'lib', 'index.ts');
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest);
  const names: string[] = [];
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement) && statement.exportClause) {
      if (ts.isNamedExports(statement.exportClause)) {
        names.push(...statement.exportClause.elements.map((e) => e.name.text));
      }
    } else if (ts.canHaveModifiers(statement)) {
      const exported = ts
        .getModifiers(statement)
        ?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
      if (!exported) continue;
      if (ts.isVariableStatement(statement)) {
        for (const d of statement.declarationList.declarations) {
          if (ts.isIdentifier(d.name)) names.push(d.name.text);
        }
      } else if (
        (ts.isClassDeclaration(statement) ||
          ts.isFunctionDeclaration(statement) ||
          ts.isInterfaceDeclaration(statement) ||
          ts.isTypeAliasDeclaration(statement) ||
          ts.isEnumDeclaration(statement)) &&
        statement.name
      ) {
        names.push(statement.name.text);
      }
    }
  }
  return names;
}

/** The top-level names a block imports or declares itself, and every identifier it uses. */
function namesOf(source: ts.SourceFile): { declared: Set<string>; used: Set<string> } {
  const declared = new Set<string>();
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && statement.importClause) {
      const clause = statement.importClause;
      if (clause.name) declared.add(clause.name.text);
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) declared.add(bindings.name.text);
      if (bindings && ts.isNamedImports(bindings))
        bindings.elements.forEach((e) => declared.add(e.name.text));
    } else if (ts.isVariableStatement(statement)) {
      statement.declarationList.declarations.forEach(
        (d) => ts.isIdentifier(d.name) && declared.add(d.name.text),
      );
    } else if (
      (ts.isClassDeclaration(statement) ||
        ts.isFunctionDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement)) &&
      statement.name
    ) {
      declared.add(statement.name.text);
    }
  }
  const used = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node)) used.add(node.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { declared, used };
}

/** The block as the compiler sees it: its own lines, then the imports it left out. */
export function blockModule(code: string, catalogue: Readonly<Record<string, string>>): string {
  const { declared, used } = namesOf(ts.createSourceFile('block.ts', code, ts.ScriptTarget.Latest));
  const byModule = new Map<string, string[]>();
  const namespaces: string[] = [];
  for (const name of [...used].sort()) {
    if (declared.has(name)) continue;
    if (Object.hasOwn(NAMESPACE_IMPORTS, name)) {
      namespaces.push(`import * as ${name} from '${NAMESPACE_IMPORTS[name]}';`);
    }
    if (Object.hasOwn(DEFAULT_IMPORTS, name))
      namespaces.push(`import ${name} from '${DEFAULT_IMPORTS[name]}';`);
    const module = Object.hasOwn(catalogue, name) ? catalogue[name] : undefined;
    if (module) byModule.set(module, [...(byModule.get(module) ?? []), name]);
  }
  const imports = [...byModule].map(
    ([module, names]) => `import { ${names.join(', ')} } from '${module}';`,
  );
  // Imports are hoisted, so putting them last keeps the block's line numbers.
  return [code, '', ...namespaces, ...imports, 'export {};', ''].join('\n');
}

export interface BlockResult {
  block: DocBlock;
  /** The virtual file the block was compiled as. */
  fileName: string;
  /** Formatted errors, `README.md:120:5 TS2345 …`; empty when it compiles. */
  errors: string[];
}

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(REPO_ROOT, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile.bind(ts.sys));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, REPO_ROOT);
  return {
    ...parsed.options,
    // Top-level `await` in snippets ("await tokenService.createClient(...)") needs an ES module
    // target; nothing else differs from the repo's settings.
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    noEmit: true,
    declaration: false,
    sourceMap: false,
    baseUrl: REPO_ROOT,
    paths: { 'nestjs-durin': ['lib/index.ts'], 'nestjs-durin/*': ['lib/*'] },
  };
}

/** Type-checks all blocks in one program (the library is checked once for all of them). */
export function checkBlocks(blocks: readonly DocBlock[]): BlockResult[] {
  const catalogue: Record<string, string> = { ...COMMON_IMPORTS };
  for (const name of libraryExports()) catalogue[name] = 'nestjs-durin';

  const virtual = new Map<string, { block: DocBlock; text: string }>();
  blocks.forEach((block) => {
    // README.md:33 → README_md-L33.doc.ts; unique per block, and named after it in diagnostics.
    const fileName = join(APP_DIR, `${block.file.replace(/[/.]/g, '_')}-L${block.line}.doc.ts`);
    virtual.set(fileName, { block, text: blockModule(block.code, catalogue) });
  });

  const options = compilerOptions();
  const host = ts.createCompilerHost(options, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (name) => virtual.has(name) || fileExists.call(host, name);
  host.readFile = (name) => virtual.get(name)?.text ?? readFile.call(host, name);
  host.getSourceFile = (name, languageVersion, onError, shouldCreate) => {
    const entry = virtual.get(name);
    if (entry) return ts.createSourceFile(name, entry.text, languageVersion, true);
    return getSourceFile.call(host, name, languageVersion, onError, shouldCreate);
  };

  const program = ts.createProgram([...virtual.keys()], options, host);
  const global = program
    .getOptionsDiagnostics()
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  if (global.length > 0) throw new Error(`compiler options: ${global.join('; ')}`);

  return [...virtual].map(([fileName, { block }]) => {
    const source = program.getSourceFile(fileName);
    if (!source) throw new Error(`${fileName} is not in the program`);
    const diagnostics = [
      ...program.getSyntacticDiagnostics(source),
      ...program.getSemanticDiagnostics(source),
    ];
    const fragments = source.statements.filter(ts.isLabeledStatement).map((statement) => {
      const { line } = source.getLineAndCharacterOfPosition(statement.getStart(source));
      // `imports: [...]` parses as a label and an expression, checked against nothing.
      return `${block.file}:${block.line + line} \`${statement.label.text}: …\` is an object fragment, not a statement: show the whole object`;
    });
    const errors = diagnostics
      .filter((d) => d.category === ts.DiagnosticCategory.Error)
      .map((d) => {
        const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
        if (d.start === undefined) return `${block.file}:${block.line} TS${d.code} ${text}`;
        const { line, character } = source.getLineAndCharacterOfPosition(d.start);
        return `${block.file}:${block.line + line}:${character + 1} TS${d.code} ${text}`;
      })
      .concat(fragments);
    return { block, fileName, errors };
  });
}
