/** The `tacit/explain` answer as a read-only text document. Pure logic: unit-tested. */

export interface ExplainResult {
  id: string;
  template: string;
  sources: string[];
  prompt: string;
  snippets: { source: string; path?: string | null; text: string }[];
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
  for (const s of result.snippets) {
    const lines = s.text.split('\n').length;
    out.push(`# [${s.source}] ${s.path || file} (${lines} line${lines === 1 ? '' : 's'})`);
  }
  out.push('# ' + '-'.repeat(70), result.prompt);
  return out.join('\n');
}
