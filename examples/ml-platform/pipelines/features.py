"""Streaming feature pipeline (Apache Beam on Dataflow): clickstream events to BigQuery features.

Launched by dataflow/launch.sh.
"""

from __future__ import annotations

import json

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions


class FeatureOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):  # Beam's hook for custom options
        parser.add_argument("--input_subscription", required=True)
        parser.add_argument("--output_table", required=True)


def to_features(message: bytes) -> dict:
    event = json.loads(message)
    return {
        "customer_id": event["customer_id"],
        "email": event.get("email"),  # personal data flowing into the feature table
        "page": event.get("page", ""),
        "ts": event["ts"],
    }


def run() -> None:
    options = FeatureOptions()
    with beam.Pipeline(options=options) as p:
        (
            p
            | "Read" >> beam.io.ReadFromPubSub(subscription=options.input_subscription)
            | "Features" >> beam.Map(to_features)
            | "Write" >> beam.io.WriteToBigQuery(options.output_table)
        )


if __name__ == "__main__":
    run()
