import path from 'node:path';

// Reads the deployment's Caddyfile (deploy/Caddyfile) closely enough to say where a request
// path goes. It understands only the subset that file uses and throws on anything else, so a
// new construct must be taught here before a test can pass with it.

export interface Directive {
  name: string;
  args: string[];
  block?: Directive[];
}

export interface Site {
  addresses: string[];
  directives: Directive[];
}

export type Destination = { respond: number } | { upstream: string };

interface Route {
  /** Undefined matches every request (Caddy sorts it last). */
  pattern?: string;
  destination: Destination;
}

/** `{$NAME}` and `{$NAME:default}` as Caddy fills them in when it reads the file. */
function expandEnv(token: string, env: Record<string, string | undefined>): string {
  return token.replace(/\{\$([A-Za-z0-9_]+)(?::([^}]*))?\}/g, (_, name: string, fallback?: string) => env[name] || fallback || '');
}

function tokenize(line: string): string[] {
  const tokens: string[] = [];
  for (const token of line.trim().split(/\s+/).filter(Boolean)) {
    if (token.startsWith('#')) break; // a comment runs to the end of the line
    if (token.includes('"') || token.includes('`')) throw new Error(`quoted tokens are not read here: ${line.trim()}`);
    tokens.push(token);
  }
  return tokens;
}

/** The global options block (if any) and the site blocks, with environment placeholders filled in. */
export function parseCaddyfile(text: string, env: Record<string, string | undefined>): { global?: Directive[]; sites: Site[] } {
  const root: Directive = { name: '', args: [], block: [] };
  const stack: Directive[] = [root];
  for (const [index, line] of text.split('\n').entries()) {
    const tokens = tokenize(line).map((t) => expandEnv(t, env));
    if (!tokens.length) continue;
    const parent = stack.at(-1)!;
    if (tokens.length === 1 && tokens[0] === '}') {
      if (stack.length === 1) throw new Error(`line ${index + 1}: unbalanced "}"`);
      stack.pop();
      continue;
    }
    const opensBlock = tokens.at(-1) === '{';
    const words = opensBlock ? tokens.slice(0, -1) : tokens;
    if (words.includes('{') || words.includes('}')) throw new Error(`line ${index + 1}: braces must end or stand alone on a line`);
    const directive: Directive = { name: words[0] ?? '', args: words.slice(1), ...(opensBlock ? { block: [] } : {}) };
    parent.block!.push(directive);
    if (opensBlock) stack.push(directive);
  }
  if (stack.length !== 1) throw new Error('unclosed "{"');

  const blocks = root.block!;
  for (const block of blocks) if (!block.block) throw new Error(`top-level "${block.name}" outside a block`);
  const global = blocks[0]?.name === '' ? blocks[0].block : undefined;
  const sites = blocks
    .filter((b) => b.name !== '')
    .map((b) => ({ addresses: [b.name, ...b.args].map((a) => a.replace(/,$/, '')), directives: b.block! }));
  return { ...(global ? { global } : {}), sites };
}

function handleRoute(directive: Directive): Route {
  if (directive.name !== 'handle') throw new Error(`site-level "${directive.name}" is not read here; route with handle blocks`);
  if (directive.args.length > 1) throw new Error(`handle ${directive.args.join(' ')}: one path per handle`);
  const pattern = directive.args[0];
  if (pattern !== undefined && (!pattern.startsWith('/') || pattern.slice(0, -1).includes('*'))) {
    throw new Error(`handle ${pattern}: only exact paths and prefixes ending in * are read here`);
  }
  const inner = directive.block ?? [];
  if (inner.length !== 1) throw new Error(`handle ${pattern ?? ''}: exactly one respond or reverse_proxy`);
  const [action] = inner;
  if (action!.name === 'respond' && action!.args.length === 1 && !action!.block) {
    return { pattern, destination: { respond: Number(action!.args[0]) } };
  }
  if (action!.name === 'reverse_proxy' && action!.args.length === 1 && !action!.block) {
    return { pattern, destination: { upstream: action!.args[0]! } };
  }
  throw new Error(`handle ${pattern ?? ''}: "${action!.name} ${action!.args.join(' ')}" is not read here`);
}

/**
 * The request path as Caddy's path matcher compares it: percent-decoded, cleaned (`..` and
 * repeated slashes resolved) and lower-cased (the matcher is case-insensitive).
 */
export function caddyMatchPath(requestPath: string): string {
  const cleaned = path.posix.normalize(decodeURIComponent(requestPath));
  return cleaned.toLowerCase();
}

/** Where the site sends a request for this path: Caddy runs the first matching handle, longest path first, the catch-all last. */
export function destinationFor(site: Site, requestPath: string): Destination | undefined {
  const routes = site.directives.map(handleRoute);
  const ordered = [
    ...routes.filter((r) => r.pattern !== undefined).sort((a, b) => b.pattern!.length - a.pattern!.length),
    ...routes.filter((r) => r.pattern === undefined),
  ];
  const target = caddyMatchPath(requestPath);
  const matches = (pattern: string | undefined) => {
    if (pattern === undefined) return true;
    const p = pattern.toLowerCase();
    return p.endsWith('*') ? target.startsWith(p.slice(0, -1)) : target === p;
  };
  return ordered.find((r) => matches(r.pattern))?.destination;
}

/** Every upstream the site can send requests to. */
export function upstreams(site: Site): string[] {
  return site.directives.map(handleRoute).flatMap((r) => ('upstream' in r.destination ? [r.destination.upstream] : []));
}
