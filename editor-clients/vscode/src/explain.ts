/** `tacit/explain` and `tacit/getSignals` answers as read-only text documents. Pure logic: unit-tested. */

export interface ExplainResult {
  id: string;
  template: string;
  sources: string[];
  prompt: string;
  leftOut?: string; // before the cursor, left for the model to write again (indentation, token healing)
  snippets: { source: string; parts?: string[]; path?: string | null; text: string }[];
}

/** The prompt behind the last suggestion, with what fed it listed first. */
export function renderExplain(result: ExplainResult | null | undefined, file: string): string {
  if (!result) {
    return `# Tacit has made no suggestion for ${file} yet: type in it, then run "Tacit: Explain Last Suggestion" again.\n`;
  }
  const out = [
    `# Prompt behind suggestion ${result.id} for ${file}`,
    `# template: ${result.template}; sources: ${result.sources.length ? result.sources.join(', ') : 'none'}`,
  ];
  if (result.leftOut) {
    out.push(`# left out before the cursor, for the model to write again: ${JSON.stringify(result.leftOut)}`);
  }
  for (const s of result.snippets) {
    const lines = s.text.split('\n').length;
    const label = [s.source, ...(s.parts ?? [])].join(' + '); // the file's own calls ride in the scopes block
    out.push(`# [${label}] ${s.path || file} (${lines} line${lines === 1 ? '' : 's'})`);
  }
  out.push('# ' + '-'.repeat(70), result.prompt);
  return out.join('\n');
}

/** The signals the server recorded for the suggestions last made in a file: one JSON object a line. */
export function renderSignals(answer: { signals: { id: string }[]; recording?: boolean }, ids: readonly string[], file: string): string {
  if (answer.recording === false) return '# Tacit is not recording signals (tacit.signals.record is off).\n';
  const wanted = new Set(ids);
  const lines = answer.signals.filter((s) => wanted.has(s.id)).map((s) => JSON.stringify(s));
  const head = `# Signals the server recorded for the last ${ids.length} suggestion${ids.length === 1 ? '' : 's'} in ${file}, oldest first`;
  return [head, ...lines].join('\n') + '\n';
}
