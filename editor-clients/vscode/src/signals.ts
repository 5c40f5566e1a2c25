/**
 * What happened to each suggestion, as `tacit/signal` notifications: `shown`, `partiallyAccepted`,
 * `dismissed`, `typedOver`. (A full accept is the item's own `tacit.accept` command, which the
 * server counts itself.) The tracker follows the suggestion on screen in each document: VS Code's
 * provider hooks report what they can (shown, partial accepts, Escape); the rest is inferred from
 * document changes at the suggestion's position. Pure logic: no `vscode` import, unit-tested.
 */

export type SignalKind = 'shown' | 'partiallyAccepted' | 'dismissed' | 'typedOver';

export interface Signal {
  id: string;
  kind: SignalKind;
  acceptedLength?: number;
}

/** A position in VS Code's units (UTF-16 code units). */
export interface Pos {
  line: number;
  character: number;
}

export interface Change {
  range: { start: Pos; end: Pos };
  text: string;
}

interface Entry {
  id: string;
  uri: string;
  /** The suggestion's insertText where it was first returned, extended as more of it streams in. */
  full: string;
  /** UTF-16 units of `full` now in the document (typed through or accepted). */
  consumed: number;
  /** Where the rest of the suggestion (`full` from `consumed` on) would be inserted. */
  anchor: Pos;
  shown: boolean;
  /** Code points reported as partially accepted. */
  reported: number;
  decided?: 'accepted' | 'dismissed' | 'typedOver';
}

const MAX_ENTRIES = 500;
const RECENT = 10;

/** Code points of a string (what the server's `acceptedLength` counts). */
export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** The position after inserting `text` at `at`. */
export function advance(at: Pos, text: string): Pos {
  const lines = text.split('\n');
  if (lines.length === 1) return { line: at.line, character: at.character + text.length };
  return { line: at.line + lines.length - 1, character: lines[lines.length - 1].length };
}

function samePos(a: Pos, b: Pos): boolean {
  return a.line === b.line && a.character === b.character;
}

function before(a: Pos, b: Pos): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}

export class SignalTracker {
  private readonly entries = new Map<string, Entry>();
  private readonly current = new Map<string, Entry>(); // uri -> the suggestion being followed there
  private readonly recentIds = new Map<string, string[]>(); // uri -> the ids last returned there, oldest first

  /**
   * @param send delivers one signal to the server.
   * @param inferPartial infer partial accepts from multi-character insertions of the suggestion's
   *   text (when VS Code's partial-accept hook is not available).
   */
  constructor(private readonly send: (s: Signal) => void, public inferPartial = true) {}

  /** The server returned suggestion `id` with `insertText` at `pos` of `uri`. */
  returned(uri: string, pos: Pos, id: string, insertText: string): void {
    let entry = this.entries.get(id);
    if (entry === undefined || entry.uri !== uri) {
      entry = { id, uri, full: insertText, consumed: 0, anchor: pos, shown: false, reported: 0 };
      this.entries.set(id, entry);
      while (this.entries.size > MAX_ENTRIES) {
        const oldest = this.entries.keys().next().value as string;
        this.entries.delete(oldest);
      }
    } else if (samePos(entry.anchor, pos)) {
      // the same suggestion again (typed through, or the rest of it streamed in)
      entry.full = entry.full.slice(0, entry.consumed) + insertText;
    } else {
      entry.anchor = pos; // we lost track of where it was: start counting from here
      entry.full = insertText;
      entry.consumed = 0;
    }
    this.current.set(uri, entry);
    const ids = (this.recentIds.get(uri) ?? []).filter((i) => i !== id);
    this.recentIds.set(uri, [...ids, id].slice(-RECENT));
  }

  /** The ids last returned for `uri` (decided or not), oldest first. */
  recent(uri: string): string[] {
    return this.recentIds.get(uri) ?? [];
  }

  /** The id of the suggestion last returned for `uri`, if it is still undecided. */
  active(uri: string): string | undefined {
    const entry = this.current.get(uri);
    return entry && !entry.decided ? entry.id : undefined;
  }

  /** VS Code showed suggestion `id` (its hook, or inferred by the caller). */
  shown(id: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined || entry.shown || entry.decided) return;
    entry.shown = true;
    this.send({ id, kind: 'shown' });
  }

  /**
   * VS Code's partial-accept hook: `acceptedLength` UTF-16 units of the item's `itemText` are now
   * in the document. The item may be the rest of an earlier one (typed through), so count from
   * where `itemText` starts in the whole suggestion.
   */
  partiallyAccepted(id: string, itemText: string, acceptedLength: number): void {
    const entry = this.entries.get(id);
    if (entry === undefined || entry.decided) return;
    const start = entry.full.endsWith(itemText) ? entry.full.length - itemText.length : entry.consumed;
    const upTo = Math.min(entry.full.length, start + Math.max(0, acceptedLength));
    this.reportPartial(entry, codePoints(entry.full.slice(0, upTo)));
  }

  /** The suggestion's `tacit.accept` command ran (VS Code accepted it whole). */
  accepted(id: string): void {
    const entry = this.entries.get(id);
    if (entry !== undefined && !entry.decided) entry.decided = 'accepted';
  }

  /** Escape on suggestion `id` (its end-of-life hook said rejected). */
  dismissed(id: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined || entry.decided || !entry.shown) return;
    entry.decided = 'dismissed';
    this.send({ id, kind: 'dismissed' });
  }

  /** Escape in a document whose suggestion VS Code cannot name for us. */
  dismissedIn(uri: string): void {
    const id = this.active(uri);
    if (id !== undefined) this.dismissed(id);
  }

  /** The document changed: follow typing through, infer partial accepts and typing over. */
  changed(uri: string, changes: readonly Change[]): void {
    const entry = this.current.get(uri);
    if (entry === undefined || entry.decided || changes.length === 0) return;
    const at = changes.filter((c) => !before(c.range.end, entry.anchor) && !before(entry.anchor, c.range.start));
    if (at.length === 0) {
      // edits only after it leave it alone; an edit above it moves it: VS Code re-requests, and so do we
      if (changes.some((c) => before(c.range.end, entry.anchor))) this.current.delete(uri);
      return;
    }
    const c = at[0];
    const rest = entry.full.slice(entry.consumed);
    const insertion = samePos(c.range.start, entry.anchor) && samePos(c.range.end, entry.anchor);
    if (changes.length === 1 && insertion && c.text.length > 0 && rest.startsWith(c.text)) {
      entry.consumed += c.text.length;
      entry.anchor = advance(entry.anchor, c.text);
      const whole = entry.consumed === entry.full.length; // Tab: its command decides it
      if (this.inferPartial && !whole && c.text.length > 1 && /\S/.test(c.text)) {
        this.reportPartial(entry, codePoints(entry.full.slice(0, entry.consumed)));
      }
      return;
    }
    if (entry.shown) {
      entry.decided = 'typedOver';
      this.send({ id: entry.id, kind: 'typedOver' });
    }
    this.current.delete(uri);
  }

  /** The document closed: forget its suggestion (the server infers what happened). */
  closed(uri: string): void {
    this.current.delete(uri);
  }

  private reportPartial(entry: Entry, length: number): void {
    if (length <= entry.reported || length === 0) return;
    entry.reported = length;
    this.send({ id: entry.id, kind: 'partiallyAccepted', acceptedLength: length });
  }
}
