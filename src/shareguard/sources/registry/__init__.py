"""Pull (and, for tests and mirrors, push) images over the OCI distribution API, without a Docker engine."""
