"""Deep-learning image freshness: release catalogs (data with an update command and a bundled snapshot),
identification of what runs, end-of-patch and newer-release judgements, long-running jobs, security bulletins
and provider mode. See docs/freshness.md."""
