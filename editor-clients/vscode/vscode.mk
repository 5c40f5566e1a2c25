# VS Code client: install stamps (prerequisites of `editors`) and unit tests (of `editor-unit`).
# The extension's npm pieces (build tools, vitest) live in editor-clients/vscode/node_modules; what
# the e2e test runs (code-server, playwright-core) in editor-clients/vscode/e2e/node_modules; Debian
# pieces (chromium, and what code-server's native modules need) come from install-debs.sh.
VSC := editor-clients/vscode
VSC_NPM := npm --no-audit --no-fund --loglevel=error
VSC_DEPS := $(VSC)/node_modules/.tacit-installed
VSC_E2E_DEPS := $(VSC)/e2e/node_modules/.tacit-installed
VSC_VSIX := $(VSC)/dist/tacit.vsix

$(VSC_DEPS): $(VSC)/package.json $(VSC)/package-lock.json
	@echo "==> VS Code client: npm ci (build tools, vitest)"
	cd $(VSC) && $(VSC_NPM) ci
	@touch $@

# code-server's install script runs `npm install` in its bundled VS Code, which builds native modules
# and would download ripgrep from GitHub: scripts are held back until Debian's rg is in npm's cache.
$(VSC_E2E_DEPS): $(VSC)/e2e/package.json $(VSC)/e2e/package-lock.json $(VSC)/scripts/install-debs.sh $(VSC)/scripts/fetch-ripgrep.sh
	bash $(VSC)/scripts/install-debs.sh
	@echo "==> VS Code client: code-server and playwright-core for the e2e test (about 2 minutes the first time)"
	cd $(VSC)/e2e && $(VSC_NPM) ci --ignore-scripts
	bash $(VSC)/scripts/fetch-ripgrep.sh $(VSC)/e2e/node_modules/code-server
	cd $(VSC)/e2e && npm_config_yes=true $(VSC_NPM) rebuild --unsafe-perm
	@touch $@

$(VSC_VSIX): $(VSC_DEPS) $(wildcard $(VSC)/src/*.ts) $(VSC)/package.json $(VSC)/tsconfig.json $(VSC)/.vscodeignore $(wildcard $(VSC)/README.md $(VSC)/screenshot.png)
	@echo "==> VS Code client: type-check, bundle, package"
	cd $(VSC) && sh -c 'npm run -s build && npm run -s package'

editors: $(VSC_VSIX) $(VSC_E2E_DEPS)

.PHONY: vscode-unit
vscode-unit: $(VSC_DEPS)
	cd $(VSC) && npx --no-install vitest run

editor-unit: vscode-unit
