/**
 * From VS Code settings to the server: the `tacit.*` settings mirror the server's options as
 * dotted keys (`tacit.completion.prefixChars`), and become its nested camelCase
 * `initializationOptions` (and `workspace/didChangeConfiguration` settings under a `tacit` key).
 * A few settings belong to the client alone. Pure logic: no `vscode` import, unit-tested.
 */

import * as path from 'node:path';

/** Settings the client uses itself; never sent to the server (it rejects unknown options). */
export const CLIENT_ONLY = new Set(['serverPath', 'pythonPath', 'serverArgs', 'trace.server', 'providerHooks']);

/** Settings that need the server restarted when they change. */
export const RESTART_KEYS = ['serverPath', 'pythonPath', 'serverArgs'];

/** Nested server options from flat setting keys (without the `tacit.` prefix) and their values. */
export function serverOptions(settings: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (CLIENT_ONLY.has(key) || value === undefined) continue;
    const parts = key.split('.');
    let node = out;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

export interface ServerCommand {
  command: string;
  args: string[];
}

/**
 * How to start the server: `tacit.serverPath` (the `tacit` executable) wins, then
 * `tacit.pythonPath` (`python -m lsp_server serve`), else `tacit` from PATH. `~` is the home
 * directory; a relative path is taken from the first workspace folder.
 */
export function serverCommand(
  settings: { serverPath?: string; pythonPath?: string; serverArgs?: string[] },
  home: string,
  workspace?: string,
): ServerCommand {
  const resolve = (p: string): string => {
    const expanded = p === '~' || p.startsWith('~/') ? path.join(home, p.slice(1)) : p;
    if (path.isAbsolute(expanded) || !expanded.includes('/') || workspace === undefined) return expanded;
    return path.join(workspace, expanded);
  };
  const extra = settings.serverArgs ?? [];
  if (settings.serverPath && settings.serverPath.trim()) {
    return { command: resolve(settings.serverPath.trim()), args: ['serve', ...extra] };
  }
  if (settings.pythonPath && settings.pythonPath.trim()) {
    return { command: resolve(settings.pythonPath.trim()), args: ['-m', 'lsp_server', 'serve', ...extra] };
  }
  return { command: 'tacit', args: ['serve', ...extra] };
}

/** `disabledLanguages` with `language` added or removed. */
export function toggleLanguage(disabled: readonly string[], language: string): string[] {
  return disabled.includes(language) ? disabled.filter((l) => l !== language) : [...disabled, language];
}
