/**
 * The inline completion provider: the standard LSP `textDocument/inlineCompletion` request, sent
 * and converted by vscode-languageclient exactly as its own provider does, plus VS Code's provider
 * hooks (proposed API `inlineCompletionsAdditions`) that report shown, partially accepted and
 * dismissed suggestions. Where VS Code does not let us use them, the hooks are left out and the
 * signal tracker infers those from what it sees.
 */

import * as vscode from 'vscode';
import { InlineCompletionRequest, type LanguageClient } from 'vscode-languageclient/node';

import type { SignalTracker } from './signals';

/** The suggestion id: the first argument of the item's `tacit.accept` command. */
export function suggestionId(item: vscode.InlineCompletionItem | undefined): string | undefined {
  const id = item?.command?.arguments?.[0];
  return typeof id === 'string' ? id : undefined;
}

/** The proposed API's end-of-life reasons (`vscode.InlineCompletionEndOfLifeReasonKind`). */
const END_OF_LIFE = { accepted: 0, rejected: 1 };

/** The hooks VS Code calls on a provider when the proposal is enabled for this extension. */
interface Hooks {
  handleDidShowCompletionItem(item: vscode.InlineCompletionItem, updatedInsertText?: string): void;
  handleDidPartiallyAcceptCompletionItem(item: vscode.InlineCompletionItem, info: number | { acceptedLength: number }): void;
  handleDidRejectCompletionItem(item: vscode.InlineCompletionItem): void;
  handleEndOfLifetime(item: vscode.InlineCompletionItem, reason: { kind: number }): void;
}

/**
 * Whether VS Code lets this extension use the provider hooks: it refuses, at registration, a
 * provider that has them unless the proposal is enabled (`--enable-proposed-api tacit.tacit`).
 */
export function hooksAvailable(): boolean {
  const probe: vscode.InlineCompletionItemProvider & Partial<Hooks> = {
    provideInlineCompletionItems: () => undefined,
    handleDidShowCompletionItem: () => undefined,
  };
  try {
    vscode.languages.registerInlineCompletionItemProvider({ scheme: 'tacit-probe' }, probe).dispose();
    return true;
  } catch {
    return false;
  }
}

/** Whether VS Code reports Escape through the hooks (VS Code 1.95+), so no key needs binding. */
export function dismissHookAvailable(hooks: boolean): boolean {
  return hooks && (vscode as unknown as Record<string, unknown>).InlineCompletionEndOfLifeReasonKind !== undefined;
}

export function createProvider(client: LanguageClient, tracker: SignalTracker, hooks: boolean): vscode.InlineCompletionItemProvider {
  const provider: vscode.InlineCompletionItemProvider = {
    async provideInlineCompletionItems(document, position, context, token) {
      let result: vscode.InlineCompletionList | vscode.InlineCompletionItem[] | undefined | null;
      try {
        const params = client.code2ProtocolConverter.asInlineCompletionParams(document, position, context);
        const answer = await client.sendRequest(InlineCompletionRequest.type, params, token);
        if (token.isCancellationRequested) return null;
        result = await client.protocol2CodeConverter.asInlineCompletionResult(answer, token);
      } catch (error) {
        return client.handleFailedRequest(InlineCompletionRequest.type, token, error, null);
      }
      const items = result ? (Array.isArray(result) ? result : result.items) : [];
      for (const item of items) {
        // The server (pygls' offset conversion) answers the end of a last line that has no newline
        // with the start of a line past the end; VS Code would never show such an item.
        if (item.range) item.range = document.validateRange(item.range);
      }
      const first = items[0];
      const id = suggestionId(first);
      if (id !== undefined && typeof first.insertText === 'string') {
        const uri = client.code2ProtocolConverter.asUri(document.uri);
        tracker.returned(uri, position, id, first.insertText);
        if (!hooks && shownAt(document, position)) tracker.shown(id);
      }
      return result;
    },
  };
  if (!hooks) return provider;
  const withHooks: vscode.InlineCompletionItemProvider & Hooks = {
    ...provider,
    handleDidShowCompletionItem(item) {
      const id = suggestionId(item);
      if (id !== undefined) tracker.shown(id);
    },
    handleDidPartiallyAcceptCompletionItem(item, info) {
      // VS Code 1.100 calls this twice per partial accept: with a length, then with {kind, acceptedLength}.
      const length = typeof info === 'number' ? info : info?.acceptedLength;
      const id = suggestionId(item);
      if (id !== undefined && typeof length === 'number' && typeof item.insertText === 'string') {
        tracker.partiallyAccepted(id, item.insertText, length);
      }
    },
    handleDidRejectCompletionItem(item) {
      const id = suggestionId(item);
      if (id !== undefined) tracker.dismissed(id);
    },
    handleEndOfLifetime(item, reason) {
      const id = suggestionId(item);
      if (id === undefined) return;
      if (reason?.kind === END_OF_LIFE.rejected) tracker.dismissed(id);
      else if (reason?.kind === END_OF_LIFE.accepted) tracker.accepted(id);
    },
  };
  return withHooks;
}

/** Without the show hook: a suggestion counts as shown when it arrives for the cursor of the active editor. */
function shownAt(document: vscode.TextDocument, position: vscode.Position): boolean {
  const editor = vscode.window.activeTextEditor;
  return editor !== undefined && editor.document === document && editor.selection.isEmpty && editor.selection.active.isEqual(position);
}
