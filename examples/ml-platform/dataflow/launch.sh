#!/usr/bin/env bash
# Launch the streaming feature pipeline on Dataflow.
# SYNTHETIC EXAMPLE: uses a deprecated experiment, public worker IPs, the default compute
# service account, no CMEK, and a custom SDK container pinned by tag instead of digest.
set -euo pipefail

PROJECT="${PROJECT:-example-ml-platform}"
REGION="${REGION:-europe-west1}"
BUCKET="gs://example-ml-platform-dataflow"

python -m pipelines.features \
  --runner DataflowRunner \
  --project "${PROJECT}" \
  --region "${REGION}" \
  --job_name "features-stream-$(date +%Y%m%d-%H%M%S)" \
  --streaming \
  --enable_streaming_engine \
  --temp_location "${BUCKET}/tmp" \
  --staging_location "${BUCKET}/staging" \
  --input_subscription "projects/${PROJECT}/subscriptions/clickstream-features" \
  --output_table "${PROJECT}:features.clickstream_v2" \
  --experiments=enable_stackdriver_agent_metrics \
  --experiments=use_runner_v2 \
  --sdk_container_image "${REGION}-docker.pkg.dev/${PROJECT}/dataflow/features:latest" \
  --sdk_location container \
  --machine_type n1-standard-4 \
  --max_num_workers 10 \
  --save_main_session
