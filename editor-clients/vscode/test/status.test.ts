import { describe, expect, it } from 'vitest';

import { StatusModel } from '../src/status';

const on = { enabled: true, language: 'python', disabledLanguages: [] as string[] };

describe('StatusModel', () => {
  it('walks through starting, loading, indexing, ready, thinking with the last latency', () => {
    const m = new StatusModel();
    expect(m.view(on).text).toBe('$(loading~spin) Tacit: starting');
    m.status({ state: 'loading', message: 'qwen2.5-coder-0.5b' });
    expect(m.view(on).text).toBe('$(loading~spin) Tacit: loading');
    expect(m.view(on).tooltip).toContain('qwen2.5-coder-0.5b');
    m.status({ state: 'ready' });
    m.progress({ kind: 'begin', title: 'Tacit: indexing workspace', percentage: 0 });
    m.progress({ kind: 'report', message: '21/50 files', percentage: 42 });
    expect(m.view(on).text).toBe('$(sync~spin) Tacit: indexing 42%');
    expect(m.view(on).tooltip).toContain('21/50 files');
    m.progress({ kind: 'end', message: '50 files indexed' });
    expect(m.view(on).text).toBe('$(check) Tacit');
    m.status({ state: 'generating' });
    expect(m.view(on).text).toBe('$(loading~spin) Tacit: thinking');
    m.status({ state: 'ready', latencyMs: 152.6 });
    expect(m.view(on).text).toBe('$(check) Tacit · 153 ms');
    m.status({ state: 'generating' }); // no latency in this one: the last one stays
    m.status({ state: 'ready' });
    expect(m.view(on).text).toBe('$(check) Tacit · 153 ms');
    expect(m.view(on).error).toBe(false);
  });

  it('shows errors with their message', () => {
    const m = new StatusModel();
    m.status({ state: 'error', message: 'model file missing' });
    const v = m.view(on);
    expect(v).toMatchObject({ text: '$(error) Tacit: error', error: true });
    expect(v.tooltip).toContain('model file missing');
    m.starting();
    expect(m.view(on).text).toBe('$(loading~spin) Tacit: starting');
    m.stopped('the server stopped');
    expect(m.view(on).error).toBe(true);
  });

  it('says when suggestions are off, globally or for the language', () => {
    const m = new StatusModel();
    m.status({ state: 'ready' });
    expect(m.view({ ...on, enabled: false }).text).toBe('$(circle-slash) Tacit: off');
    expect(m.view({ ...on, disabledLanguages: ['python'] }).text).toBe('$(circle-slash) Tacit: off (python)');
    expect(m.view({ ...on, disabledLanguages: ['go'] }).text).toBe('$(check) Tacit');
  });
});
