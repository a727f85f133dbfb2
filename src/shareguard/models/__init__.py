"""Model files and ML code: formats, pickle walker (never executes), code checks."""
