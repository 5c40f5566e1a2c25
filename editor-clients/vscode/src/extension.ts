/**
 * Tacit for VS Code: a thin client of the Tacit language server. It starts `tacit serve` over
 * stdio, hands it the `tacit.*` settings, shows its state in the status bar, re-triggers inline
 * suggestions when the server says more of one is ready, and reports what happened to each
 * suggestion. The server does the work.
 */

import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  InlineCompletionRequest,
  type InlineCompletionRegistrationOptions,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
  WorkDoneProgress,
  WorkDoneProgressCreateRequest,
} from 'vscode-languageclient/node';

import { type ExplainResult, renderExplain, renderSignals } from './explain';
import { createProvider, dismissHookAvailable, hooksAvailable } from './provider';
import { RESTART_KEYS, serverCommand, serverOptions, toggleLanguage } from './settings';
import { type Signal, SignalTracker } from './signals';
import { type ProgressValue, type StatusParams, StatusModel } from './status';

const SECTION = 'tacit';
const ACCEPT_COMMAND = 'tacit.accept';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('Tacit', { log: true });
  const status = new StatusModel();
  const item = vscode.window.createStatusBarItem('tacit.status', vscode.StatusBarAlignment.Right, 100);
  item.name = 'Tacit';
  item.command = 'tacit.menu';
  const wantHooks = vscode.workspace.getConfiguration(SECTION).get<boolean>('providerHooks', true);
  const hooks = wantHooks && hooksAvailable();
  const tracker = new SignalTracker((s: Signal) => void client?.sendNotification('tacit/signal', s), !hooks);
  const documents = new ReadOnlyDocuments();
  const why = wantHooks ? 'not allowed by this VS Code' : 'tacit.providerHooks is off';
  output.info(`provider hooks (proposed API inlineCompletionsAdditions): ${hooks ? 'on' : `off (${why}), inferring signals`}`);
  await vscode.commands.executeCommand('setContext', 'tacit.dismissByKey', !dismissHookAvailable(hooks));
  context.subscriptions.push(output, item, vscode.workspace.registerTextDocumentContentProvider('tacit', documents));

  const settingKeys = Object.keys(context.extension.packageJSON.contributes.configuration.properties as object)
    .map((k) => k.slice(SECTION.length + 1));
  const readSettings = (): Record<string, unknown> => {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    return Object.fromEntries(settingKeys.map((k) => [k, cfg.get(k)]));
  };

  const render = (): void => {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const view = status.view({
      enabled: cfg.get<boolean>('enabled', true),
      language: vscode.window.activeTextEditor?.document.languageId,
      disabledLanguages: cfg.get<string[]>('disabledLanguages', []),
    });
    item.text = view.text;
    item.tooltip = view.tooltip;
    item.backgroundColor = view.error ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    item.show();
  };

  const start = async (): Promise<void> => {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const { command, args } = serverCommand(
      { serverPath: cfg.get('serverPath'), pythonPath: cfg.get('pythonPath'), serverArgs: cfg.get('serverArgs') },
      os.homedir(),
      folder,
    );
    const server: ServerOptions = { command, args, options: { cwd: folder } }; // stdio (no --stdio flag: tacit serve has none)
    const options: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      initializationOptions: serverOptions(readSettings()),
      outputChannel: output,
      middleware: {
        executeCommand: (cmd, cmdArgs, next) => {
          if (cmd === ACCEPT_COMMAND && typeof cmdArgs[0] === 'string') tracker.accepted(cmdArgs[0]);
          return next(cmd, cmdArgs);
        },
      },
    };
    const c = new LanguageClient('tacit', 'Tacit', server, options);
    client = c;
    useOwnProvider(c, tracker, hooks);
    showProgressInStatus(c, status, render);
    c.onDidChangeState((e) => {
      if (e.newState === State.Starting) status.starting();
      if (e.newState === State.Stopped) status.stopped('the server stopped; see "Tacit: Show Server Log"');
      render();
    });
    c.onNotification('tacit/status', (params: StatusParams) => {
      status.status(params);
      render();
    });
    c.onNotification('tacit/completionUpdated', (params: { uri: string; id: string; version?: number | null }) => {
      const editor = vscode.window.activeTextEditor;
      if (!editor || c.code2ProtocolConverter.asUri(editor.document.uri) !== params.uri) return;
      if (params.version != null && params.version !== editor.document.version) return;
      if (tracker.active(params.uri) !== params.id) return; // not the one on screen, or already decided
      void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    });
    output.info(`starting ${command} ${args.join(' ')}`);
    try {
      await c.start();
    } catch (error) {
      status.stopped(`could not start ${command}: ${String(error)}`);
      render();
      const choice = await vscode.window.showErrorMessage(
        `Tacit: could not start the server (${command}). Set "tacit.serverPath" to your tacit executable.`,
        'Open Settings', 'Show Log');
      if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'tacit.serverPath');
      if (choice === 'Show Log') output.show();
    }
  };

  const restart = async (): Promise<void> => {
    const old = client;
    client = undefined;
    if (old) await old.dispose().catch(() => undefined);
    await start();
  };

  const setGlobally = async (key: string, value: unknown): Promise<void> => {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const where = cfg.inspect(key)?.workspaceValue !== undefined
      ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await cfg.update(key, value, where);
  };

  const open = async (name: string, text: string): Promise<void> => {
    const doc = await vscode.workspace.openTextDocument(documents.put(name, text));
    await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  };

  const activeUri = (): string | undefined => {
    const editor = vscode.window.activeTextEditor;
    return editor && client ? client.code2ProtocolConverter.asUri(editor.document.uri) : undefined;
  };

  const commands: Record<string, (...args: unknown[]) => unknown> = {
    'tacit.enable': () => setGlobally('enabled', true),
    'tacit.disable': () => setGlobally('enabled', false),
    'tacit.toggleLanguage': () => {
      const language = vscode.window.activeTextEditor?.document.languageId;
      if (!language) return vscode.window.showInformationMessage('Tacit: open a file first.');
      const disabled = vscode.workspace.getConfiguration(SECTION).get<string[]>('disabledLanguages', []);
      return setGlobally('disabledLanguages', toggleLanguage(disabled, language));
    },
    'tacit.showLog': () => output.show(),
    'tacit.restart': () => restart(),
    'tacit.explain': async () => {
      const uri = activeUri();
      if (!uri || !client) return vscode.window.showInformationMessage('Tacit: open a file first.');
      const result = await client.sendRequest<ExplainResult | null>('tacit/explain', { uri });
      const file = vscode.workspace.asRelativePath(vscode.window.activeTextEditor!.document.uri);
      await open('explain.txt', renderExplain(result, file));
    },
    'tacit.showSignals': async () => {
      const uri = activeUri();
      if (!uri || !client) return vscode.window.showInformationMessage('Tacit: open a file first.');
      const ids = tracker.recent(uri);
      const answer = await client.sendRequest<{ signals: { id: string }[]; recording?: boolean }>('tacit/getSignals', {});
      const file = vscode.workspace.asRelativePath(vscode.window.activeTextEditor!.document.uri);
      await open('signals.jsonl', renderSignals(answer, ids, file));
    },
    'tacit.dismiss': async () => {
      await vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
      const uri = activeUri();
      if (uri) tracker.dismissedIn(uri);
    },
    'tacit.menu': async () => {
      const cfg = vscode.workspace.getConfiguration(SECTION);
      const language = vscode.window.activeTextEditor?.document.languageId;
      const off = cfg.get<string[]>('disabledLanguages', []).includes(language ?? '');
      const picks: (vscode.QuickPickItem & { command: string })[] = [
        cfg.get('enabled', true)
          ? { label: '$(circle-slash) Disable suggestions', command: 'tacit.disable' }
          : { label: '$(check) Enable suggestions', command: 'tacit.enable' },
        ...(language ? [{ label: `${off ? 'Enable' : 'Disable'} suggestions for ${language}`, command: 'tacit.toggleLanguage' }] : []),
        { label: '$(question) Explain last suggestion', command: 'tacit.explain' },
        { label: '$(pulse) Show signals of last suggestion', command: 'tacit.showSignals' },
        { label: '$(output) Show server log', command: 'tacit.showLog' },
        { label: '$(debug-restart) Restart server', command: 'tacit.restart' },
      ];
      const pick = await vscode.window.showQuickPick(picks, { title: 'Tacit' });
      if (pick) await vscode.commands.executeCommand(pick.command);
    },
  };
  for (const [name, fn] of Object.entries(commands)) {
    context.subscriptions.push(vscode.commands.registerCommand(name, fn));
  }

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      render();
      if (RESTART_KEYS.some((k) => e.affectsConfiguration(`${SECTION}.${k}`))) {
        void restart();
      } else if (client?.isRunning()) {
        void client.sendNotification(DidChangeConfigurationNotification.type, { settings: { [SECTION]: serverOptions(readSettings()) } });
      }
    }),
    vscode.window.onDidChangeActiveTextEditor(render),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (client && e.contentChanges.length) tracker.changed(client.code2ProtocolConverter.asUri(e.document.uri), e.contentChanges);
    }),
    vscode.workspace.onDidCloseTextDocument((doc) => {
      if (client) tracker.closed(client.code2ProtocolConverter.asUri(doc.uri));
    }),
  );

  render();
  await start();
}

export async function deactivate(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) await c.dispose();
}

/**
 * vscode-languageclient registers a provider with only `provideInlineCompletionItems`, and VS
 * Code decides at registration whether a provider gets the show/accept/reject hooks. So the
 * client's inline completion feature (which still decides when and for which documents to
 * register, from the server's capabilities) registers our provider instead.
 */
function useOwnProvider(c: LanguageClient, tracker: SignalTracker, hooks: boolean): void {
  type Feature = { registerLanguageProvider(options: InlineCompletionRegistrationOptions): [vscode.Disposable, vscode.InlineCompletionItemProvider] };
  const feature = c.getFeature(InlineCompletionRequest.method) as unknown as Feature | undefined;
  if (!feature) throw new Error('vscode-languageclient has no inline completion feature');
  feature.registerLanguageProvider = (options) => {
    const provider = createProvider(c, tracker, hooks);
    const selector = c.protocol2CodeConverter.asDocumentSelector(options.documentSelector ?? []);
    return [vscode.languages.registerInlineCompletionItemProvider(selector, provider), provider];
  };
}

/** Work-done progress (workspace indexing) goes to the status item instead of a separate spinner. */
function showProgressInStatus(c: LanguageClient, status: StatusModel, render: () => void): void {
  c.registerFeature({
    fillClientCapabilities: () => undefined, // the built-in progress feature announces support
    initialize: () => {
      c.onRequest(WorkDoneProgressCreateRequest.type, ({ token }) => {
        const sub = c.onProgress(WorkDoneProgress.type, token, (value: ProgressValue) => {
          status.progress(value);
          render();
          if (value.kind === 'end') sub.dispose();
        });
      });
    },
    getState: () => ({ kind: 'static' }),
    clear: () => undefined,
  });
}

/** Read-only text documents (`tacit:` URIs) for explain and signals. */
class ReadOnlyDocuments implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  put(name: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: 'tacit', path: `/${name}` });
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }
}
