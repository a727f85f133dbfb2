"""Canonical resource types and attributes: one vocabulary over Terraform, plan JSON, CloudFormation,
describe-API JSON and Beam options, so one check (or one CEL rule) covers every format.

Parsers first build a snake_case view of a resource (`snake_view`), then `canonicalize` adds the
canonical attributes (documented in docs/posture-cloud.md) on top of that view and says which
source path each came from, so findings point at the line that set it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shareguard.posture.attribute_types import raw_to_canonical
from shareguard.posture.parsers._common import as_bool, as_list, is_unknown

Picked = tuple[Any, str]
"""A canonical value and the source path (in the snake view) it came from."""


def resolve(doc: Any, path: str) -> Picked | None:
    """Follow a dotted path; a list met on the way is entered at `[*]` (first element that has the rest)
    or at element 0 (HCL blocks parse as one-element lists)."""
    return _resolve(doc, path.split("."), "")


def _resolve(cur: Any, parts: list[str], done: str) -> Picked | None:
    if not parts:
        return (cur, done) if cur is not None else None
    head, rest = parts[0], parts[1:]
    if head == "*":
        if not isinstance(cur, list):
            return None
        for i, item in enumerate(cur):
            got = _resolve(item, rest, f"{done}[{i}]")
            if got is not None:
                return got
        return None
    if isinstance(cur, list):
        if not cur:
            return None
        return _resolve(cur[0], parts, f"{done}[0]")
    if not isinstance(cur, dict) or head not in cur:
        return None
    return _resolve(cur[head], rest, f"{done}.{head}" if done else head)


def pick(doc: Any, *paths: str) -> Picked | None:
    for p in paths:
        got = resolve(doc, p)
        if got is not None:
            return got
    return None


@dataclass(frozen=True)
class Canonical:
    type: str
    attributes: dict[str, Any]
    sources: dict[str, str]
    """Canonical key → source path in the view (for line lookup)."""


Normaliser = Callable[[dict[str, Any]], dict[str, Picked | None]]


def _experiments(v: dict[str, Any]) -> Picked | None:
    """Dataflow experiments from every place a format keeps them (list or comma-separated string)."""
    for path in (
        "additional_experiments",
        "experiments",
        "environment.experiments",
        "environment.sdk_pipeline_options.options.experiments",
        "launch_parameter.environment.additional_experiments",
        "parameters.experiments",
    ):
        got = resolve(v, path)
        if got is None:
            continue
        items: list[str] = []
        for item in as_list(got[0]):
            if isinstance(item, str) and not is_unknown(item):
                items.extend(s.strip() for s in item.split(",") if s.strip())
        return items, got[1]
    return None


def _dataflow(v: dict[str, Any]) -> dict[str, Picked | None]:
    ip = pick(
        v,
        "ip_configuration",
        "environment.worker_pools.*.ip_configuration",
        "environment.ip_configuration",
        "launch_parameter.environment.ip_configuration",
    )
    use_public = pick(
        v,
        "use_public_ips",
        "environment.sdk_pipeline_options.options.use_public_ips",
        "environment.use_public_ips",
    )
    if ip is None and use_public is not None and as_bool(use_public[0]) is not None:
        ip = ("WORKER_IP_PUBLIC" if as_bool(use_public[0]) else "WORKER_IP_PRIVATE", use_public[1])
    job_type = pick(v, "type", "job_type")
    streaming = pick(v, "streaming", "environment.sdk_pipeline_options.options.streaming")
    if job_type is not None and isinstance(job_type[0], str):
        job_type = ("streaming" if "STREAMING" in job_type[0].upper() else "batch", job_type[1])
    elif streaming is not None and as_bool(streaming[0]) is not None:
        job_type = ("streaming" if as_bool(streaming[0]) else "batch", streaming[1])
    flex = pick(v, "container_spec_gcs_path", "launch_parameter.container_spec_gcs_path", "container_spec")
    return {
        "kms_key_name": pick(
            v,
            "kms_key_name",
            "dataflow_kms_key",
            "environment.service_kms_key_name",
            "environment.sdk_pipeline_options.options.dataflow_kms_key",
            "launch_parameter.environment.kms_key_name",
            "parameters.dataflow_kms_key",
            "parameters.dataflowKmsKey",
        ),
        "service_account_email": pick(
            v,
            "service_account_email",
            "environment.service_account_email",
            "environment.sdk_pipeline_options.options.service_account_email",
            "launch_parameter.environment.service_account_email",
            "parameters.service_account_email",
            "parameters.serviceAccount",
        ),
        "ip_configuration": ip,
        "experiments": _experiments(v),
        "sdk_version": pick(
            v,
            "sdk_version",
            "job_metadata.sdk_version.version",
            "sdk_info.version",
            "container_spec.sdk_info.version",
            "environment.user_agent.version",
        ),
        "sdk_support_status": pick(
            v, "job_metadata.sdk_version.sdk_support_status", "environment.user_agent.support.status"
        ),
        "container_image": pick(
            v,
            "sdk_container_image",
            "environment.sdk_pipeline_options.options.sdk_container_image",
            "launch_parameter.environment.sdk_container_image",
            "parameters.sdk_container_image",
        ),
        "template_image": pick(v, "image", "container_spec.image", "launch_parameter.container_spec.image"),
        "flex_template": (True, flex[1]) if flex is not None else None,
        "job_type": job_type,
        "state": pick(v, "current_state", "state"),
        "create_time": pick(v, "create_time"),
        "current_state_time": pick(v, "current_state_time"),
        "labels": pick(v, "labels", "launch_parameter.labels"),
    }


def _sm_notebook(v: dict[str, Any]) -> dict[str, Picked | None]:
    return {
        "root_access": pick(v, "root_access"),
        "direct_internet_access": pick(v, "direct_internet_access"),
        "subnet_id": pick(v, "subnet_id"),
        "kms_key_id": pick(v, "kms_key_id"),
    }


def _sm_job(v: dict[str, Any]) -> dict[str, Picked | None]:
    return {
        "volume_kms_key_id": pick(
            v, "resource_config.volume_kms_key_id", "processing_resources.cluster_config.volume_kms_key_id"
        ),
        "output_kms_key_id": pick(v, "output_data_config.kms_key_id", "processing_output_config.kms_key_id"),
        "inter_container_traffic_encryption": pick(
            v, "enable_inter_container_traffic_encryption", "network_config.enable_inter_container_traffic_encryption"
        ),
        "network_isolation": pick(v, "enable_network_isolation", "network_config.enable_network_isolation"),
        "vpc_config": pick(v, "vpc_config", "network_config.vpc_config"),
    }


def _sm_endpoint_config(v: dict[str, Any]) -> dict[str, Picked | None]:
    return {"kms_key_id": pick(v, "kms_key_arn", "kms_key_id")}


def _sm_model(v: dict[str, Any]) -> dict[str, Picked | None]:
    return {"network_isolation": pick(v, "enable_network_isolation"), "vpc_config": pick(v, "vpc_config")}


def _vertex(v: dict[str, Any]) -> dict[str, Picked | None]:
    no_public = pick(v, "no_public_ip", "gce_setup.disable_public_ip", "disable_public_ip")
    public_ip: Picked | None = None
    if no_public is not None and as_bool(no_public[0]) is not None:
        public_ip = (not as_bool(no_public[0]), no_public[1])
    return {
        "kms_key_name": pick(
            v,
            "encryption_spec.kms_key_name",
            "kms_key",
            "gce_setup.boot_disk.kms_key",
            "gce_setup.data_disks.kms_key",
            "disk_encryption_kms_key",
        ),
        "network": pick(
            v,
            "network",
            "job_spec.network",
            "gce_setup.network_interfaces.network",
            "private_service_connect_config.enable_private_service_connect",
        ),
        "public_ip": public_ip,
        "service_account": pick(
            v,
            "service_account",
            "job_spec.service_account",
            "gce_setup.service_accounts.email",
            "deployed_models.*.service_account",
        ),
    }


def _compute_instance(v: dict[str, Any]) -> dict[str, Picked | None]:
    image = pick(
        v,
        "boot_disk.initialize_params.image",
        "disk.source_image",
        "disks.*.initialize_params.source_image",
        "source_image",
    )
    licenses = pick(v, "disks.*.licenses")
    if image is None and licenses is not None:
        image = (" ".join(str(x) for x in as_list(licenses[0])), licenses[1])
    metadata: dict[str, Any] = {}
    meta = resolve(v, "metadata")
    meta_path = meta[1] if meta else "metadata"
    if meta is not None and isinstance(meta[0], dict):
        items = meta[0].get("items")
        if isinstance(items, list):  # describe JSON: {"items": [{"key": …, "value": …}]}
            metadata = {str(i.get("key")): i.get("value") for i in items if isinstance(i, dict)}
        else:
            metadata = dict(meta[0])
    public = pick(v, "network_interface.access_config", "network_interfaces.*.access_configs")
    return {
        "image": image,
        "metadata": (metadata, meta_path),
        "public_ip": (True, public[1]) if public is not None else (False, "network_interface"),
        "secure_boot": pick(
            v, "shielded_instance_config.enable_secure_boot", "shielded_instance_config.enable_secure_boot"
        ),
        "service_accounts": _service_accounts(v),
    }


def _service_accounts(v: dict[str, Any]) -> Picked | None:
    got = pick(v, "service_account", "service_accounts")
    if got is None:
        return None
    out = []
    for sa in as_list(got[0]):
        if isinstance(sa, dict):
            out.append({"email": sa.get("email"), "scopes": as_list(sa.get("scopes"))})
    return out, got[1]


def _project_metadata(v: dict[str, Any]) -> dict[str, Picked | None]:
    meta = pick(v, "metadata")
    key = pick(v, "key")
    if meta is None and key is not None:  # google_compute_project_metadata_item
        value = pick(v, "value")
        meta = ({str(key[0]): value[0] if value else None}, key[1])
    return {"metadata": meta}


def _cloudtrail(v: dict[str, Any]) -> dict[str, Picked | None]:
    return {
        "multi_region": pick(v, "is_multi_region_trail"),
        "log_file_validation": pick(v, "enable_log_file_validation", "log_file_validation_enabled"),
        "kms_key_id": pick(v, "kms_key_id"),
        "logging": pick(v, "enable_logging", "is_logging"),
    }


def _s3_bucket(v: dict[str, Any]) -> dict[str, Picked | None]:
    return {
        "acl": pick(v, "acl", "access_control"),
        "public_access_block": pick(v, "public_access_block_configuration"),
        "sse_algorithm": pick(
            v,
            "server_side_encryption_configuration.rule.apply_server_side_encryption_by_default.sse_algorithm",
            "bucket_encryption.server_side_encryption_configuration.*.server_side_encryption_by_default.sse_algorithm",
            "rule.apply_server_side_encryption_by_default.sse_algorithm",
        ),
        "kms_key_id": pick(
            v,
            "server_side_encryption_configuration.rule.apply_server_side_encryption_by_default.kms_master_key_id",
            "bucket_encryption.server_side_encryption_configuration.*.server_side_encryption_by_default.kms_master_key_id",
            "rule.apply_server_side_encryption_by_default.kms_master_key_id",
        ),
    }


def _gcs_bucket(v: dict[str, Any]) -> dict[str, Picked | None]:
    return {
        "uniform_bucket_level_access": pick(
            v, "uniform_bucket_level_access", "iam_configuration.uniform_bucket_level_access.enabled"
        ),
        "public_access_prevention": pick(v, "public_access_prevention", "iam_configuration.public_access_prevention"),
        "kms_key_name": pick(v, "encryption.default_kms_key_name", "default_kms_key"),
    }


def _listener(v: dict[str, Any]) -> dict[str, Picked | None]:
    redirect = None
    actions = pick(v, "default_action", "default_actions")
    if actions is not None:
        for i, a in enumerate(as_list(actions[0])):
            if isinstance(a, dict) and str(a.get("type", "")).lower() == "redirect":
                redirect = (True, f"{actions[1]}[{i}]")
    return {"protocol": pick(v, "protocol"), "ssl_policy": pick(v, "ssl_policy"), "redirect": redirect}


def _api_domain(v: dict[str, Any]) -> dict[str, Picked | None]:
    return {"security_policy": pick(v, "security_policy", "domain_name_configuration.security_policy")}


def _cloudfront(v: dict[str, Any]) -> dict[str, Picked | None]:
    return {
        "minimum_protocol_version": pick(
            v,
            "viewer_certificate.minimum_protocol_version",
            "distribution_config.viewer_certificate.minimum_protocol_version",
        ),
        "default_certificate": pick(
            v,
            "viewer_certificate.cloudfront_default_certificate",
            "distribution_config.viewer_certificate.cloud_front_default_certificate",
        ),
    }


def _ssl_policy(v: dict[str, Any]) -> dict[str, Picked | None]:
    return {"min_tls_version": pick(v, "min_tls_version"), "profile": pick(v, "profile")}


def _https_proxy(v: dict[str, Any]) -> dict[str, Picked | None]:
    return {"ssl_policy": pick(v, "ssl_policy")}


def _kms_key(v: dict[str, Any]) -> dict[str, Picked | None]:
    return {
        "rotation_enabled": pick(v, "enable_key_rotation", "key_rotation_enabled"),
        "rotation_period": pick(v, "rotation_period"),
        "key_spec": pick(v, "customer_master_key_spec", "key_spec", "purpose"),
    }


def _sa_key(v: dict[str, Any]) -> dict[str, Picked | None]:
    return {"key_type": pick(v, "key_type")}


def _aws_provider(v: dict[str, Any]) -> dict[str, Picked | None]:
    return {"use_fips_endpoint": pick(v, "use_fips_endpoint"), "endpoints": pick(v, "endpoints")}


def _none(v: dict[str, Any]) -> dict[str, Picked | None]:
    return {}


# raw type (Terraform / CloudFormation / describe pseudo-type) → canonical type and normaliser.
_TABLE: dict[str, tuple[str, Normaliser]] = {}


def _reg(canonical: str, fn: Normaliser, *raw: str) -> None:
    for r in raw:
        _TABLE[r] = (canonical, fn)


_reg(
    "gcp.dataflow.job",
    _dataflow,
    "google_dataflow_job",
    "google_dataflow_flex_template_job",
    "describe:dataflow.job",
    "describe:dataflow.flex_launch",
    "beam:pipeline_options",
)
_reg(
    "aws.sagemaker.notebook",
    _sm_notebook,
    "aws_sagemaker_notebook_instance",
    "AWS::SageMaker::NotebookInstance",
    "describe:sagemaker.notebook",
)
_reg("aws.sagemaker.training_job", _sm_job, "describe:sagemaker.training_job")
_reg("aws.sagemaker.processing_job", _sm_job, "describe:sagemaker.processing_job")
_reg(
    "aws.sagemaker.endpoint_config",
    _sm_endpoint_config,
    "aws_sagemaker_endpoint_configuration",
    "AWS::SageMaker::EndpointConfig",
    "describe:sagemaker.endpoint_config",
)
_reg("aws.sagemaker.model", _sm_model, "aws_sagemaker_model", "AWS::SageMaker::Model", "describe:sagemaker.model")
_reg("gcp.vertexai.dataset", _vertex, "google_vertex_ai_dataset", "describe:vertexai.dataset")
_reg("gcp.vertexai.endpoint", _vertex, "google_vertex_ai_endpoint", "describe:vertexai.endpoint")
_reg("gcp.vertexai.model", _vertex, "describe:vertexai.model")
_reg("gcp.vertexai.custom_job", _vertex, "describe:vertexai.custom_job")
_reg(
    "gcp.vertexai.notebook",
    _vertex,
    "google_notebooks_instance",
    "google_workbench_instance",
    "describe:vertexai.notebook",
    "describe:vertexai.workbench",
)
_reg("gcp.vertexai.featurestore", _vertex, "google_vertex_ai_featurestore")
_reg("gcp.vertexai.index", _vertex, "google_vertex_ai_index")
_reg("gcp.vertexai.tensorboard", _vertex, "google_vertex_ai_tensorboard")
_reg("gcp.vertexai.metadata_store", _vertex, "google_vertex_ai_metadata_store")
_reg(
    "gcp.compute.instance",
    _compute_instance,
    "google_compute_instance",
    "google_compute_instance_template",
    "google_compute_region_instance_template",
    "describe:compute.instance",
)
_reg(
    "gcp.compute.project_metadata",
    _project_metadata,
    "google_compute_project_metadata",
    "google_compute_project_metadata_item",
)
_reg("aws.cloudtrail.trail", _cloudtrail, "aws_cloudtrail", "AWS::CloudTrail::Trail", "describe:cloudtrail.trail")
_reg("aws.s3.bucket", _s3_bucket, "aws_s3_bucket", "AWS::S3::Bucket")
_reg("aws.s3.bucket_acl", _s3_bucket, "aws_s3_bucket_acl")
_reg("aws.s3.encryption", _s3_bucket, "aws_s3_bucket_server_side_encryption_configuration")
_reg(
    "aws.s3.public_access_block",
    _none,
    "aws_s3_bucket_public_access_block",
    "aws_s3_account_public_access_block",
    "describe:s3.public_access_block",
)
_reg("gcp.storage.bucket", _gcs_bucket, "google_storage_bucket", "describe:storage.bucket")
_reg(
    "aws.elb.listener",
    _listener,
    "aws_lb_listener",
    "aws_alb_listener",
    "AWS::ElasticLoadBalancingV2::Listener",
    "describe:elb.listener",
)
_reg(
    "aws.apigateway.domain",
    _api_domain,
    "aws_api_gateway_domain_name",
    "aws_apigatewayv2_domain_name",
    "AWS::ApiGateway::DomainName",
)
_reg("aws.cloudfront.distribution", _cloudfront, "aws_cloudfront_distribution", "AWS::CloudFront::Distribution")
_reg("gcp.compute.ssl_policy", _ssl_policy, "google_compute_ssl_policy")
_reg(
    "gcp.compute.https_proxy",
    _https_proxy,
    "google_compute_target_https_proxy",
    "google_compute_region_target_https_proxy",
)
_reg("aws.kms.key", _kms_key, "aws_kms_key", "AWS::KMS::Key")
_reg("gcp.kms.crypto_key", _kms_key, "google_kms_crypto_key")
_reg("gcp.iam.sa_key", _sa_key, "google_service_account_key", "describe:iam.sa_key")
_reg("aws.provider", _aws_provider, "provider:aws")


def canonical_type(raw_type: str) -> str | None:
    hit = _TABLE.get(raw_type)
    return hit[0] if hit else raw_to_canonical().get(raw_type)


def raw_types_of(ctype: str) -> set[str]:
    """The raw types this table maps to `ctype`."""
    return {raw for raw, (c, _) in _TABLE.items() if c == ctype}


def canonicalize(raw_type: str, view: dict[str, Any]) -> Canonical:
    """Canonical type + attributes (the snake view plus canonical keys). Unknown types keep their raw type."""
    hit = _TABLE.get(raw_type)
    if hit is None:
        # kinds only the attribute rule tables judge: canonical type, the snake view as it is
        return Canonical(raw_to_canonical().get(raw_type, raw_type), dict(view), {})
    ctype, fn = hit
    attrs = dict(view)
    sources: dict[str, str] = {}
    for key, picked in fn(view).items():
        if picked is None:
            if key not in attrs:
                attrs[key] = None
            continue
        attrs[key] = picked[0]
        sources[key] = picked[1]
    return Canonical(ctype, attrs, sources)
