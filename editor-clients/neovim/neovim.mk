# Neovim client: install stamps (prerequisites of `editors`) and unit tests (of `editor-unit`).
# Neovim 0.12 comes from Debian sid and 0.10 from Debian trixie, unpacked into .editors/ (ignored)
# by install-nvim.sh without touching the system; the stamps make a second run a no-op.
NVIM_INSTALL := editor-clients/neovim/install-nvim.sh
NVIM12 := .editors/nvim-0.12/.installed
NVIM10 := .editors/nvim-0.10/.installed

$(NVIM12): $(NVIM_INSTALL)
	bash $(NVIM_INSTALL) sid $(@D) 0.12
	@touch $@

$(NVIM10): $(NVIM_INSTALL)
	bash $(NVIM_INSTALL) trixie $(@D) 0.10
	@touch $@

editors: $(NVIM12) $(NVIM10)

.PHONY: nvim-unit
nvim-unit: $(NVIM12) $(NVIM10)
	.editors/nvim-0.12/bin/nvim -l editor-clients/neovim/tests/run.lua
	.editors/nvim-0.10/bin/nvim -l editor-clients/neovim/tests/run.lua

editor-unit: nvim-unit
