"""The middle layer between what developers do and the model: event store, datasets, filter, adapters."""
