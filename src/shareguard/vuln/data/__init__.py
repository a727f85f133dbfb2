"""Bundled vulnerability data: `snapshot.zip` (OSV JSON from the PyPA advisory database, CC-BY-4.0,
its LICENSE inside and beside it as `LICENSE-snapshot-CC-BY-4.0.txt`) and `snapshot.json` (its date,
source commit and attribution)."""
