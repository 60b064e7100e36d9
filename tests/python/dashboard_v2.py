"""What the dashboard's v2 views need from a real SDK: a histogram with a
known distribution (the observations 1, 2, ..., 100 ms, in the SDK's default
explicit buckets, recorded inside a span so exemplars come along), an
exponential histogram, and a span with a link and resource attributes past
`service.name`, from a tracer with a version. Exported over OTLP/gRPC with the
endpoint and headers from the environment, like otel_grpc.py.

Prints `origin=<trace id>` (the linked-to trace) and `linked=<trace id>` (the
trace whose span carries the link). Exits 1 if the SDK reported a problem.

Usage: python dashboard_v2.py SERVICE_NAME
"""

import logging
import sys

from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from otel_grpc import SdkProblems


def main():
    service_name = sys.argv[1]
    problems = SdkProblems()
    logging.getLogger().addHandler(problems)
    resource = Resource.create(
        {
            "service.name": service_name,
            "service.version": "1.2.3",
            "host.name": "test-host",
            "deployment.environment": "ci",
        }
    )
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(insecure=True)))
    reader = PeriodicExportingMetricReader(OTLPMetricExporter(insecure=True), export_interval_millis=60_000)
    payload_view = View(instrument_name="python.payload", aggregation=ExponentialBucketHistogramAggregation())
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader], views=[payload_view])

    tracer = tracer_provider.get_tracer("dashboard_v2.tracer", "0.9.1")
    meter = meter_provider.get_meter("dashboard_v2.meter", "0.9.1")
    latency = meter.create_histogram("python.latency", unit="ms", description="request latency")
    payload = meter.create_histogram("python.payload", unit="By", description="payload size")

    with tracer.start_as_current_span("batch-origin") as origin:
        origin_context = origin.get_span_context()
    with tracer.start_as_current_span("linked-work", links=[trace.Link(origin_context, {"link.kind": "follows"})]) as span:
        for value in range(1, 101):
            latency.record(value, {"route": "/work"})
            payload.record(value * 10, {"route": "/work"})
        linked_context = span.get_span_context()

    flushed = tracer_provider.force_flush()
    meter_provider.shutdown()
    tracer_provider.shutdown()
    print(f"origin={format(origin_context.trace_id, '032x')}")
    print(f"linked={format(linked_context.trace_id, '032x')}")
    print(f"flushed={flushed}")
    if problems.count or not flushed:
        sys.exit(1)


if __name__ == "__main__":
    main()
