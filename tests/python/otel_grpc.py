"""A Python program instrumented the way the Aspire dashboard's Python
tutorial (otel_grpc.py) does it: the OpenTelemetry SDK with OTLP/gRPC
exporters for traces, metrics and logs, the endpoint and headers taken from
the standard OTEL_EXPORTER_OTLP_* environment variables.

It records one span, adds to one counter inside it and logs one record inside
it, shuts every provider down (which exports what is left), and prints the
span's trace id on stdout as `trace_id=<32 hex digits>`. It exits 1 if the SDK
reported any problem (such as a refused export).

Usage: python otel_grpc.py SERVICE_NAME
"""

import logging
import sys
import warnings

from opentelemetry import metrics, trace
from opentelemetry._logs import set_logger_provider
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def configure_otel(service_name):
    resource = Resource.create({SERVICE_NAME: service_name})

    # Traces. The endpoint, headers and plaintext (`http://`) come from the
    # environment; `insecure=True` says so explicitly, as the tutorial does.
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(insecure=True)))
    trace.set_tracer_provider(tracer_provider)

    # Metrics.
    reader = PeriodicExportingMetricReader(OTLPMetricExporter(insecure=True))
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    metrics.set_meter_provider(meter_provider)

    # Logs: the standard `logging` module, through a LoggingHandler.
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(insecure=True)))
    set_logger_provider(logger_provider)
    with warnings.catch_warnings():
        # The SDK's own handler is deprecated in favour of a separate package
        # since 1.39; the tutorial still uses it and it still works.
        warnings.simplefilter("ignore", DeprecationWarning)
        handler = LoggingHandler(level=logging.NOTSET, logger_provider=logger_provider)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)

    return tracer_provider, meter_provider, logger_provider


class SdkProblems(logging.Handler):
    """Echoes the SDK's own warnings and errors (a refused export) on stderr
    and counts them: with only the OTLP handler on the root logger, as in the
    tutorial, they would otherwise go nowhere visible."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.count = 0

    def emit(self, record):
        if record.name.startswith("opentelemetry"):
            self.count += 1
            print(f"{record.name}: {record.getMessage()}", file=sys.stderr)


def main():
    service_name = sys.argv[1]
    problems = SdkProblems()
    logging.getLogger().addHandler(problems)
    providers = configure_otel(service_name)

    tracer = trace.get_tracer("otel_grpc.tutorial")
    meter = metrics.get_meter("otel_grpc.tutorial")
    counter = meter.create_counter("python.requests", unit="1", description="requests handled")
    logger = logging.getLogger("otel_grpc.tutorial")

    with tracer.start_as_current_span("python-work") as span:
        span.set_attribute("work.kind", "tutorial")
        counter.add(3, {"route": "/hello"})
        logger.warning("hello from python")
        trace_id = format(span.get_span_context().trace_id, "032x")

    tracer_provider, meter_provider, logger_provider = providers
    flushed = tracer_provider.force_flush() and logger_provider.force_flush()
    meter_provider.shutdown()
    tracer_provider.shutdown()
    logger_provider.shutdown()
    print(f"trace_id={trace_id}")
    print(f"flushed={flushed}")
    if problems.count or not flushed:
        sys.exit(1)


if __name__ == "__main__":
    main()
