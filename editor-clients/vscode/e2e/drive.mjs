// Drives code-server (a real VS Code) in Debian's Chromium with playwright-core, as a person would:
// open a file, type, wait for Tacit's ghost text, dismiss one suggestion with Escape, accept another
// with Tab, save, and read what the Tacit commands show. Run by tests/e2e/test_vscode.py, which
// starts code-server and checks the results: this script only acts and reports.
//
// Usage: node drive.mjs CONFIG_JSON   (url, file, out, chromium, ghostTimeoutMs, readyTimeoutMs, and
// optionally unsaved: {file, definition, call} for the unsaved-tab scenario instead of the suggestions one)
// Prints one JSON line (the report) last; screenshots go to `out`.

import { chromium } from 'playwright-core';

const cfg = JSON.parse(process.argv[2]);
const report = { steps: [], ghosts: {}, signals: {}, explain: null, status: [] };
const step = (s) => {
  report.steps.push(s);
  console.error(`[drive] ${s}`);
};

const browser = await chromium.launch({
  executablePath: cfg.chromium,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));

const mod = 'Control';
const ghost = page.locator('.monaco-editor .ghost-text-decoration');

async function statusText() {
  const items = page.locator('.statusbar-item', { hasText: 'Tacit' });
  return (await items.count()) ? (await items.first().innerText()).trim() : '';
}

/** Wait until the Tacit status item says ready ("Tacit" or "Tacit · 153 ms"). */
async function waitReady(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const text = await statusText();
    if (text !== last) report.status.push(text);
    last = text;
    if (/^Tacit( · \d+ ms)?$/.test(text)) return text;
    if (/error/i.test(text)) throw new Error(`Tacit status: ${text}`);
    await page.waitForTimeout(250);
  }
  throw new Error(`Tacit status never became ready; last: ${JSON.stringify(last)}`);
}

async function runCommand(title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

/** The text of the active editor, read from the DOM (lines sorted by their position). */
async function activeEditorLines() {
  return page.evaluate(() => {
    const editor = document.querySelector('.editor-group-container.active .monaco-editor');
    if (!editor) return [];
    return Array.from(editor.querySelectorAll('.view-lines .view-line'))
      .map((el) => [parseFloat(el.style.top) || 0, (el.textContent || '').replace(/\u00a0/g, ' ')])
      .sort((a, b) => a[0] - b[0])
      .map(([, text]) => text);
  });
}

/** Run a Tacit command that opens a read-only document beside, and read it. */
async function readCommandDocument(title, tabName) {
  await runCommand(title);
  await page.locator('.tab.active', { hasText: tabName }).first().waitFor({ timeout: 30_000 });
  await page.waitForTimeout(500);
  const lines = await activeEditorLines();
  await page.keyboard.press(`${mod}+W`); // close it
  await page.keyboard.press(`${mod}+1`); // back to the file
  await page.waitForTimeout(300);
  return lines;
}

/** Wait for ghost text; return its visible text (first line, plus the lines below it). */
async function waitGhost(name) {
  await ghost.first().waitFor({ state: 'visible', timeout: cfg.ghostTimeoutMs });
  await page.waitForTimeout(400); // let it settle (the rest of a block may stream in)
  const text = await page.evaluate(() => {
    const first = Array.from(document.querySelectorAll('.monaco-editor .ghost-text-decoration')).map((e) => e.textContent).join('');
    const below = Array.from(document.querySelectorAll('.monaco-editor .ghost-text .view-line')).map((e) => e.textContent);
    return [first, ...below].join('\n').replace(/\u00a0/g, ' ');
  });
  report.ghosts[name] = text;
  step(`ghost text (${name}): ${JSON.stringify(text)}`);
  return text;
}

async function typeLine(text) {
  await page.keyboard.type(text, { delay: 40 });
}

/** Open `file` through Quick Open and focus its editor. */
async function openFile(file) {
  await page.keyboard.press(`${mod}+P`);
  await page.locator('.quick-input-widget input').waitFor({ state: 'visible' });
  await page.keyboard.type(file);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: file }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: file }).waitFor();
  await page.locator('.editor-group-container.active .monaco-editor textarea').focus();
}

/** Dismiss, accept and partly accept suggestions in `cfg.file`, reading signals and explain after each. */
async function suggestionsScenario() {
  // 1. A suggestion at the very end of the file, dismissed with Escape.
  await page.keyboard.press(`${mod}+End`);
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  await typeLine('def is_weekend(day):');
  await page.keyboard.press('Enter');
  await typeLine('    return ');
  await waitGhost('dismissed');
  await page.screenshot({ path: `${cfg.out}/ghost-before-escape.png` });
  await page.keyboard.press('Escape');
  await ghost.first().waitFor({ state: 'detached', timeout: 10_000 });
  step('dismissed with Escape');
  await page.waitForTimeout(1000);
  report.signals.afterEscape = await readCommandDocument('Tacit: Show Signals of Last Suggestion', 'signals.jsonl');

  // 2. A suggestion, accepted with Tab; this time with a line after the cursor (1. was at the end of the file).
  await page.locator('.editor-group-container .tab', { hasText: cfg.file }).first().click();
  await page.keyboard.press(`${mod}+End`);
  for (let i = 0; i < 4; i++) await page.keyboard.press('Enter');
  await page.keyboard.press('ArrowUp');
  await typeLine('def is_leap(year):');
  await page.keyboard.press('Enter');
  await typeLine('    return ');
  await waitGhost('accepted');
  await page.screenshot({ path: `${cfg.out}/ghost-text.png` });
  await page.keyboard.press('Tab');
  await ghost.first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => step('ghost text still shown after Tab (a new suggestion?)'));
  step('accepted with Tab');
  await page.waitForTimeout(1000);
  await page.keyboard.press(`${mod}+S`);
  await page.waitForTimeout(1000);
  step('saved');
  report.signals.afterTab = await readCommandDocument('Tacit: Show Signals of Last Suggestion', 'signals.jsonl');

  // 3. A suggestion partly accepted (Ctrl+Right: the next word), then the rest dismissed.
  await page.locator('.editor-group-container .tab', { hasText: cfg.file }).first().click();
  await page.keyboard.press(`${mod}+End`);
  for (let i = 0; i < 4; i++) await page.keyboard.press('Enter');
  await page.keyboard.press('ArrowUp');
  await typeLine('def month_name_of(number):');
  await page.keyboard.press('Enter');
  await typeLine('    return ');
  await waitGhost('partial');
  await page.keyboard.press(`${mod}+ArrowRight`);
  await page.waitForTimeout(1500);
  await page.keyboard.press('Escape');
  await page.waitForTimeout(1000);
  await page.keyboard.press(`${mod}+S`);
  await page.waitForTimeout(500);
  step('accepted a word, dismissed the rest');
  report.signals.afterPartial = await readCommandDocument('Tacit: Show Signals of Last Suggestion', 'signals.jsonl');
  await page.locator('.editor-group-container .tab', { hasText: cfg.file }).first().click();
  report.explain = await readCommandDocument('Tacit: Explain Last Suggestion', 'explain.txt');
  report.finalStatus = await statusText();
  await page.screenshot({ path: `${cfg.out}/final.png` });
}

/** `cfg.unsaved`: type a definition at the end of one file and leave it unsaved, then type a call of it
 * in another (`cfg.file`) and read what "Tacit: Explain Last Suggestion" shows. */
async function unsavedScenario() {
  const { file: other, definition, call } = cfg.unsaved; // `other` is open already
  await page.keyboard.press(`${mod}+End`);
  for (const line of definition) {
    await page.keyboard.press('Enter');
    await page.keyboard.press('Home'); // no indentation carried over: each line brings its own
    await typeLine(line);
  }
  step(`typed a definition in ${other}, not saved`);
  await openFile(cfg.file);
  await page.keyboard.press(`${mod}+End`);
  await page.keyboard.press('Enter');
  await typeLine(call);
  await waitGhost('call').catch(() => step('no ghost text for the call'));
  await page.keyboard.press('Escape');
  report.explain = await readCommandDocument('Tacit: Explain Last Suggestion', 'explain.txt');
  report.dirty = await page.locator('.tab.dirty', { hasText: other }).count();
}

try {
  await page.goto(cfg.url, { waitUntil: 'domcontentloaded' });
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  step('workbench loaded');
  await page.locator('.statusbar-item', { hasText: 'Tacit' }).first().waitFor({ timeout: 60_000 });
  step(`status item: ${await statusText()}`);

  await openFile(cfg.unsaved ? cfg.unsaved.file : cfg.file);
  step('file open');
  await page.keyboard.press(`${mod}+B`); // hide the side bar: room for the ghost text
  step(`ready: ${await waitReady(cfg.readyTimeoutMs)}`);

  if (cfg.unsaved) await unsavedScenario();
  else await suggestionsScenario();
  report.ok = true;
} catch (error) {
  report.ok = false;
  report.error = String(error && error.stack ? error.stack : error);
  report.finalStatus = await statusText().catch(() => '');
  await page.screenshot({ path: `${cfg.out}/failure.png` }).catch(() => undefined);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
