"""The trace store: its schema and migrations, the version-guarded writer, the store sink that
feeds it from the chain and alert topics, and the trace and recall queries over it."""
