# Infrastructure of the ML platform (GCP for data and training, AWS for research notebooks).
# SYNTHETIC EXAMPLE: several resources are misconfigured on purpose; see ../README.md.

terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 5.40"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 5.40"
    }
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
  }
}

provider "google" {
  project = var.project
  region  = var.region
}

provider "aws" {
  region = "eu-west-1"
}

variable "project" {
  type    = string
  default = "example-ml-platform"
}

variable "region" {
  type    = string
  default = "europe-west1"
}

# --- Dataflow: streaming feature pipeline (Flex Template) ------------------------------------

resource "google_dataflow_flex_template_job" "features_stream" {
  provider                = google-beta
  name                    = "features-stream"
  region                  = var.region
  container_spec_gcs_path = "gs://example-ml-platform-dataflow/templates/features.json"
  # No kms_key_name: pipeline state is encrypted with Google-managed keys only.
  # No service_account_email: workers run as the default compute service account.
  ip_configuration             = "WORKER_IP_PUBLIC"
  additional_experiments       = ["enable_stackdriver_agent_metrics", "use_runner_v2"]
  enable_streaming_engine      = true
  max_workers                  = 10
  on_delete                    = "drain"
  skip_wait_on_job_termination = true

  parameters = {
    input_subscription  = "projects/example-ml-platform/subscriptions/clickstream-features"
    output_table        = "example-ml-platform:features.clickstream_v2"
    sdk_container_image = "europe-west1-docker.pkg.dev/example-ml-platform/dataflow/features:latest"
  }

  labels = {
    team = "ml-platform"
  }
}

# --- Storage ---------------------------------------------------------------------------------

resource "google_storage_bucket" "training_data" {
  name                        = "example-ml-training-data"
  location                    = "EU"
  uniform_bucket_level_access = true
  force_destroy               = false

  versioning {
    enabled = true
  }

  labels = {
    team        = "ml-platform"
    data_owner  = "jane-doe"
    sensitivity = "pii"
  }
}

# Makes every object of the training bucket readable by anyone on the internet.
resource "google_storage_bucket_iam_member" "training_data_public" {
  bucket = google_storage_bucket.training_data.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}

resource "aws_s3_bucket" "exports" {
  bucket = "example-ml-exports"

  tags = {
    Team        = "ml-platform"
    DataSteward = "jane.doe@example.com"
    CostCenter  = "CC-4711"
  }
}

resource "aws_s3_bucket_public_access_block" "exports" {
  bucket                  = aws_s3_bucket.exports.id
  block_public_acls       = false
  block_public_policy     = false
  ignore_public_acls      = false
  restrict_public_buckets = false
}

# --- Notebooks -------------------------------------------------------------------------------

resource "google_workbench_instance" "research" {
  name     = "research-notebook"
  location = "europe-west1-b"

  gce_setup {
    machine_type      = "n1-standard-8"
    disable_public_ip = false

    accelerator_configs {
      type       = "NVIDIA_TESLA_T4"
      core_count = 1
    }

    vm_image {
      project = "cloud-notebooks-managed"
      family  = "workbench-instances"
    }

    network_interfaces {
      network = "projects/example-ml-platform/global/networks/default"
      subnet  = "projects/example-ml-platform/regions/europe-west1/subnetworks/default"
    }

    metadata = {
      # A private package index with credentials in the URL (synthetic, not a real token).
      pip-index-url = "https://build-bot:EXAMPLE-not-a-real-token@pypi.internal.example.com/simple"
    }
  }
}

resource "aws_sagemaker_notebook_instance" "research" {
  name                   = "research-notebook"
  role_arn               = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-Research"
  instance_type          = "ml.g4dn.xlarge"
  platform_identifier    = "notebook-al2-v2"
  root_access            = "Enabled"
  direct_internet_access = "Enabled"
  # No subnet_id / security_groups (not in a VPC) and no kms_key_id.

  tags = {
    Team = "ml-research"
  }
}

resource "aws_sagemaker_code_repository" "platform" {
  code_repository_name = "ml-platform"

  git_config {
    repository_url = "https://build-bot:EXAMPLE-not-a-real-token@git.example.com/ml/platform.git"
    branch         = "main"
  }
}

# --- Audit logging ---------------------------------------------------------------------------

resource "aws_cloudtrail" "main" {
  name                          = "ml-platform-trail"
  s3_bucket_name                = "example-ml-platform-cloudtrail"
  include_global_service_events = true
  is_multi_region_trail         = false
  enable_log_file_validation    = false
}
