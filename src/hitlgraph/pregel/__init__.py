"""The execution engine: supersteps, tasks, checkpoints. Public entry: CompiledStateGraph."""
