"""Alert sinks: where incidents are delivered (webhook, Slack, syslog, email, file), with a disk spool."""
