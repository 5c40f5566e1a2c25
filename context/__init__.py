"""What the model sees: syntax, the document around the cursor, and the prompt built from them."""
