import { beforeEach, describe, expect, it } from 'vitest';

import { advance, codePoints, type Signal, SignalTracker } from '../src/signals';

const URI = 'file:///w/a.py';
const at = (line: number, character: number) => ({ line, character });
const insert = (line: number, character: number, text: string) => ({ range: { start: at(line, character), end: at(line, character) }, text });

describe('SignalTracker without provider hooks (inferring)', () => {
  let sent: Signal[];
  let t: SignalTracker;
  beforeEach(() => {
    sent = [];
    t = new SignalTracker((s) => sent.push(s), true);
    t.returned(URI, at(3, 4), 'tacit-1', 'return x + y\n    # done');
    t.shown('tacit-1');
  });

  it('reports shown once per id', () => {
    t.shown('tacit-1');
    t.returned(URI, at(3, 4), 'tacit-1', 'return x + y\n    # done');
    t.shown('tacit-1');
    expect(sent).toEqual([{ id: 'tacit-1', kind: 'shown' }]);
  });

  it('typing through the suggestion is not a signal', () => {
    t.changed(URI, [insert(3, 4, 'r')]);
    t.changed(URI, [insert(3, 5, 'e')]);
    t.returned(URI, at(3, 6), 'tacit-1', 'turn x + y\n    # done');
    expect(sent.map((s) => s.kind)).toEqual(['shown']);
    expect(t.active(URI)).toBe('tacit-1');
  });

  it('a character that differs from the suggestion is typing over it', () => {
    t.changed(URI, [insert(3, 4, 'r')]);
    t.changed(URI, [insert(3, 5, 'x')]);
    expect(sent.at(-1)).toEqual({ id: 'tacit-1', kind: 'typedOver' });
    expect(t.active(URI)).toBeUndefined();
    t.changed(URI, [insert(3, 6, 'y')]);
    expect(sent).toHaveLength(2);
  });

  it('backspace at the suggestion is typing over it', () => {
    t.changed(URI, [{ range: { start: at(3, 3), end: at(3, 4) }, text: '' }]);
    expect(sent.at(-1)?.kind).toBe('typedOver');
  });

  it('a word accepted at once is a partial accept counted from the start of the suggestion', () => {
    t.changed(URI, [insert(3, 4, 'r')]); // typed
    t.changed(URI, [insert(3, 5, 'eturn')]); // the rest of the word accepted
    expect(sent.at(-1)).toEqual({ id: 'tacit-1', kind: 'partiallyAccepted', acceptedLength: 6 });
    t.changed(URI, [insert(3, 10, ' x')]);
    expect(sent.at(-1)).toEqual({ id: 'tacit-1', kind: 'partiallyAccepted', acceptedLength: 8 });
  });

  it('Enter with auto-indent that matches is typing through, not a partial accept', () => {
    t.returned(URI, at(3, 4), 'tacit-2', '\n    return 1');
    t.shown('tacit-2');
    t.changed(URI, [insert(3, 4, '\n    ')]);
    expect(sent.filter((s) => s.id === 'tacit-2').map((s) => s.kind)).toEqual(['shown']);
    expect(t.active(URI)).toBe('tacit-2');
    t.returned(URI, at(4, 4), 'tacit-2', 'return 1');
    t.changed(URI, [insert(4, 4, 'return 1')]); // Tab: the whole rest
    expect(sent.filter((s) => s.id === 'tacit-2').map((s) => s.kind)).toEqual(['shown']);
  });

  it('accepting the whole suggestion sends nothing: the server counts its tacit.accept command', () => {
    t.changed(URI, [insert(3, 4, 'return x + y\n    # done')]);
    t.accepted('tacit-1');
    t.dismissed('tacit-1');
    t.changed(URI, [insert(4, 10, 'z')]);
    expect(sent).toEqual([{ id: 'tacit-1', kind: 'shown' }]);
  });

  it('Escape dismisses the active suggestion once', () => {
    t.dismissedIn(URI);
    t.dismissedIn(URI);
    t.changed(URI, [insert(3, 4, 'q')]);
    expect(sent).toEqual([{ id: 'tacit-1', kind: 'shown' }, { id: 'tacit-1', kind: 'dismissed' }]);
  });

  it('a suggestion never shown is neither dismissed nor typed over', () => {
    t.returned(URI, at(3, 4), 'tacit-3', 'pass');
    t.dismissedIn(URI);
    t.changed(URI, [insert(3, 4, 'x')]);
    expect(sent.filter((s) => s.id === 'tacit-3')).toEqual([]);
  });

  it('edits after the suggestion leave it alone; edits above it stop following it silently', () => {
    t.changed(URI, [insert(9, 0, 'later\n')]);
    expect(t.active(URI)).toBe('tacit-1');
    t.changed(URI, [insert(0, 0, '# header\n')]);
    expect(t.active(URI)).toBeUndefined();
    expect(sent).toHaveLength(1);
    expect(t.recent(URI)).toEqual(['tacit-1']);
  });

  it('the rest of a streamed suggestion extends what it counts against', () => {
    t.returned(URI, at(5, 0), 'tacit-4', 'a = 1');
    t.shown('tacit-4');
    t.returned(URI, at(5, 0), 'tacit-4', 'a = 1\nb = 2');
    t.changed(URI, [insert(5, 0, 'a = 1\n')]);
    expect(sent.at(-1)).toEqual({ id: 'tacit-4', kind: 'partiallyAccepted', acceptedLength: 6 });
  });
});

describe('SignalTracker with provider hooks', () => {
  it('counts partial accepts from the hook in code points of the whole suggestion', () => {
    const sent: Signal[] = [];
    const t = new SignalTracker((s) => sent.push(s), false);
    t.returned(URI, at(0, 0), 'tacit-9', 'héllo 🙂 wörld');
    t.shown('tacit-9');
    t.changed(URI, [insert(0, 0, 'héllo ')]); // not inferred: the hook reports it
    expect(sent).toHaveLength(1);
    t.partiallyAccepted('tacit-9', 'héllo 🙂 wörld', 6);
    t.partiallyAccepted('tacit-9', 'héllo 🙂 wörld', 6); // VS Code 1.100 calls the hook twice
    t.changed(URI, [insert(0, 6, '🙂 ')]);
    // an item re-served from the cache after typing through: its text is the rest
    t.returned(URI, at(0, 9), 'tacit-9', 'wörld');
    t.partiallyAccepted('tacit-9', '🙂 wörld', 3); // UTF-16 units: the emoji is two
    expect(sent).toEqual([
      { id: 'tacit-9', kind: 'shown' },
      { id: 'tacit-9', kind: 'partiallyAccepted', acceptedLength: 6 },
      { id: 'tacit-9', kind: 'partiallyAccepted', acceptedLength: 8 },
    ]);
  });

  it('typing over is still inferred (VS Code does not report it)', () => {
    const sent: Signal[] = [];
    const t = new SignalTracker((s) => sent.push(s), false);
    t.returned(URI, at(1, 2), 'tacit-5', 'foo()');
    t.shown('tacit-5');
    t.changed(URI, [insert(1, 2, 'b')]);
    expect(sent.at(-1)).toEqual({ id: 'tacit-5', kind: 'typedOver' });
  });
});

describe('helpers', () => {
  it('counts code points, not UTF-16 units', () => {
    expect(codePoints('a🙂b')).toBe(3);
    expect('a🙂b'.length).toBe(4);
  });

  it('advances positions over inserted lines', () => {
    expect(advance(at(2, 3), 'ab')).toEqual(at(2, 5));
    expect(advance(at(2, 3), 'ab\n  c')).toEqual(at(3, 3));
  });
});
