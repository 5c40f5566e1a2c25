/**
 * The status-bar item's text: the server's state from `tacit/status` and the indexing work-done
 * progress (`$/progress`), the last latency, and whether suggestions are off. Pure logic: no
 * `vscode` import, unit-tested.
 */

/** `tacit/status` params as the server sends them. */
export interface StatusParams {
  state: string; // loading | ready | generating | error
  message?: string;
  latencyMs?: number;
}

/** `$/progress` work-done values. */
export type ProgressValue =
  | { kind: 'begin'; title: string; message?: string; percentage?: number }
  | { kind: 'report'; message?: string; percentage?: number }
  | { kind: 'end'; message?: string };

export interface StatusView {
  text: string;
  tooltip: string;
  error: boolean;
}

export interface Switches {
  enabled: boolean;
  language?: string; // the active editor's languageId
  disabledLanguages: readonly string[];
}

export class StatusModel {
  private state = 'starting';
  private message = '';
  private latencyMs?: number;
  private indexing?: { percentage?: number; message?: string };

  /** The client is (re)starting the server. */
  starting(): void {
    this.state = 'starting';
    this.message = '';
    this.indexing = undefined;
  }

  /** The server process stopped (crashed, or could not be started). */
  stopped(message: string): void {
    this.state = 'error';
    this.message = message;
    this.indexing = undefined;
  }

  status(params: StatusParams): void {
    this.state = params.state;
    this.message = params.message ?? '';
    if (typeof params.latencyMs === 'number') this.latencyMs = params.latencyMs;
  }

  progress(value: ProgressValue): void {
    if (value.kind === 'end') {
      this.indexing = undefined;
      return;
    }
    this.indexing = { percentage: value.percentage ?? this.indexing?.percentage, message: value.message };
  }

  view(switches: Switches): StatusView {
    const latency = this.latencyMs === undefined ? '' : ` · ${Math.round(this.latencyMs)} ms`;
    const last = this.latencyMs === undefined ? '' : `\nLast suggestion: ${Math.round(this.latencyMs)} ms`;
    const menu = '\nClick for Tacit commands';
    if (this.state === 'error') {
      return { text: '$(error) Tacit: error', tooltip: `Tacit: error${this.message ? `: ${this.message}` : ''}${menu}`, error: true };
    }
    if (!switches.enabled) {
      return { text: '$(circle-slash) Tacit: off', tooltip: `Tacit: suggestions are off${menu}`, error: false };
    }
    if (switches.language && switches.disabledLanguages.includes(switches.language)) {
      return { text: `$(circle-slash) Tacit: off (${switches.language})`, tooltip: `Tacit: suggestions are off for ${switches.language}${menu}`, error: false };
    }
    if (this.state === 'starting') {
      return { text: '$(loading~spin) Tacit: starting', tooltip: `Tacit: starting the server${menu}`, error: false };
    }
    if (this.state === 'loading') {
      const what = this.message ? `: ${this.message}` : '';
      return { text: '$(loading~spin) Tacit: loading', tooltip: `Tacit: loading the model${what}${menu}`, error: false };
    }
    if (this.indexing) {
      const pct = this.indexing.percentage === undefined ? '' : ` ${Math.round(this.indexing.percentage)}%`;
      const what = this.indexing.message ? ` (${this.indexing.message})` : '';
      return { text: `$(sync~spin) Tacit: indexing${pct}`, tooltip: `Tacit: indexing the workspace${pct}${what}${last}${menu}`, error: false };
    }
    if (this.state === 'generating') {
      return { text: '$(loading~spin) Tacit: thinking', tooltip: `Tacit: thinking${last}${menu}`, error: false };
    }
    if (this.state === 'ready') {
      return { text: `$(check) Tacit${latency}`, tooltip: `Tacit: ready${last}${menu}`, error: false };
    }
    return { text: `Tacit${latency}`, tooltip: `Tacit: ${this.state}${this.message ? `: ${this.message}` : ''}${menu}`, error: false };
  }
}
