import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { renderExplain, renderSignals } from '../src/explain';
import { CLIENT_ONLY, serverCommand, serverOptions, toggleLanguage } from '../src/settings';

describe('serverOptions', () => {
  it('nests dotted settings and leaves the client-only ones out', () => {
    expect(serverOptions({
      serverPath: '/x/tacit', pythonPath: '', serverArgs: [], 'trace.server': 'off',
      enabled: true, disabledLanguages: ['markdown'],
      'completion.prefixChars': 1200, 'completion.maxLines': 4, 'context.index': false, 'model.path': null,
      logFile: '/tmp/t.jsonl',
    })).toEqual({
      enabled: true, disabledLanguages: ['markdown'],
      completion: { prefixChars: 1200, maxLines: 4 }, context: { index: false }, model: { path: null },
      logFile: '/tmp/t.jsonl',
    });
  });

  it('maps every contributed setting, with the defaults from package.json', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
    const props = pkg.contributes.configuration.properties as Record<string, { default: unknown }>;
    const flat = Object.fromEntries(Object.entries(props).map(([k, v]) => [k.slice('tacit.'.length), v.default]));
    const opts = serverOptions(flat);
    expect(opts).toMatchObject({ enabled: true, engine: 'llama', completion: { prefixChars: 8000 }, context: { index: true } });
    expect(Object.keys(opts)).not.toContain('serverPath');
    for (const key of CLIENT_ONLY) expect(props[`tacit.${key}`], key).toBeDefined();
  });
});

describe('serverCommand', () => {
  it('prefers tacit.serverPath, then tacit.pythonPath, then tacit on PATH', () => {
    expect(serverCommand({ serverPath: '/opt/tacit/.venv/bin/tacit', pythonPath: '/usr/bin/python3' }, '/home/u'))
      .toEqual({ command: '/opt/tacit/.venv/bin/tacit', args: ['serve'] });
    expect(serverCommand({ serverPath: '', pythonPath: '/usr/bin/python3' }, '/home/u'))
      .toEqual({ command: '/usr/bin/python3', args: ['-m', 'lsp_server', 'serve'] });
    expect(serverCommand({}, '/home/u')).toEqual({ command: 'tacit', args: ['serve'] });
  });

  it('expands ~ and resolves relative paths from the workspace folder', () => {
    expect(serverCommand({ serverPath: '~/tacit/.venv/bin/tacit' }, '/home/u').command).toBe('/home/u/tacit/.venv/bin/tacit');
    expect(serverCommand({ serverPath: '.venv/bin/tacit' }, '/home/u', '/w/proj').command).toBe('/w/proj/.venv/bin/tacit');
    expect(serverCommand({ pythonPath: 'python3', serverArgs: ['--tcp', '127.0.0.1:7777'] }, '/home/u', '/w').args)
      .toEqual(['-m', 'lsp_server', 'serve', '--tcp', '127.0.0.1:7777']);
  });
});

describe('toggleLanguage', () => {
  it('adds or removes the language', () => {
    expect(toggleLanguage(['go'], 'python')).toEqual(['go', 'python']);
    expect(toggleLanguage(['go', 'python'], 'python')).toEqual(['go']);
  });
});

describe('renderExplain', () => {
  it('lists the sources, then the prompt', () => {
    const text = renderExplain({
      id: 'tacit-7', template: 'qwen2.5-coder', sources: ['definitions', 'scopes'], prompt: '<|fim_prefix|>def f():',
      snippets: [{ source: 'definitions', path: 'util.py', text: 'def g():\n    pass' },
        { source: 'scopes', parts: ['file_calls'], path: '', text: 'g(1)' }],
    }, 'a.py');
    expect(text.split('\n')).toEqual([
      '# Prompt behind suggestion tacit-7 for a.py',
      '# template: qwen2.5-coder; sources: definitions, scopes',
      '# [definitions] util.py (2 lines)',
      '# [scopes + file_calls] a.py (1 line)',
      '# ' + '-'.repeat(70),
      '<|fim_prefix|>def f():',
    ]);
    expect(renderExplain(null, 'a.py')).toContain('no suggestion');
    const healed = renderExplain({ id: 'tacit-8', template: 't', sources: [], prompt: 'x = f', leftOut: '(', snippets: [] }, 'a.py');
    expect(healed.split('\n')[2]).toBe('# left out before the cursor, for the model to write again: "("');
  });
});

describe('renderSignals', () => {
  it('keeps the signals of the given suggestions, one JSON object a line', () => {
    const answer = { recording: true, signals: [
      { id: 'tacit-1', kind: 'shown' }, { id: 'tacit-0', kind: 'shown' }, { id: 'tacit-1', kind: 'accepted', acceptedLength: 4 }] };
    expect(renderSignals(answer, ['tacit-1'], 'a.py').split('\n').slice(1, 3).map((l) => JSON.parse(l)))
      .toEqual([{ id: 'tacit-1', kind: 'shown' }, { id: 'tacit-1', kind: 'accepted', acceptedLength: 4 }]);
    expect(renderSignals({ recording: false, signals: [] }, [], 'a.py')).toContain('not recording');
  });
});
