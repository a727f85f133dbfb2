"""Sources open a target and yield entries; they know nothing of what will be looked for."""
