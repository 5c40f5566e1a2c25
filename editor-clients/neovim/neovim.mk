# Neovim client: install stamps (prerequisites of `editors`) and unit tests (of `editor-unit`).
