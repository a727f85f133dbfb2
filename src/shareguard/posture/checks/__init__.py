"""Python checks, one module per family; their metadata lives in `posture/rules/*.yaml`."""
