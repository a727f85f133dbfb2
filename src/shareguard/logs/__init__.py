"""Log monitoring: audit logs (CloudTrail, Cloud Audit Logs, Kubernetes audit) evaluated with Sigma rules.

`ingest` reads events, `sigma` loads rules with pySigma, `compiler` turns them into Python matchers,
`evaluator` runs them (indexed by event name), `incidents` groups alerts, `sinks` deliver them.
See docs/logs.md.
"""
