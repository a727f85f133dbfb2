"""What a finding is about (a resource) and where exactly in it (a location)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Resource(BaseModel):
    """A thing the customer owns: a file, an image, a package, a cloud resource, a record set."""

    model_config = ConfigDict(frozen=True)

    type: str
    """e.g. `file`, `container_image`, `package`, `dockerfile`, `kubernetes:Deployment`,
    `terraform:google_dataflow_job`, `model_file`."""
    path: str
    """Path relative to the scanned root, an image reference, or a URI."""
    name: str | None = None
    """A resource's own name where it has one (Terraform address, Kubernetes name, package name)."""


class Location(BaseModel):
    """Where in the resource: any subset of these is set."""

    model_config = ConfigDict(frozen=True)

    line: int | None = None
    end_line: int | None = None
    column: int | None = None
    layer_digest: str | None = None
    field_path: str | None = None
    """Dotted/indexed path inside a structured document, e.g. `spec.template.spec.containers[0].image`."""
    member: str | None = None
    """Archive member (e.g. `archive/data.pkl` inside a PyTorch zip)."""
    offset: int | None = None
    """Byte offset inside the file or member."""
    record: str | None = None
    """A record id, row number or log event id."""

    def is_empty(self) -> bool:
        return all(v is None for v in self.model_dump().values())
