"""Protocol handlers: one module per concern; each converts LSP types and calls the pipeline."""
