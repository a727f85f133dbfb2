"""Container image sources: docker-archive, OCI layout, oci-archive; layers streamed once."""
