"""Reports: render a ScanResult with the catalog. Reporters never re-run analysis."""
