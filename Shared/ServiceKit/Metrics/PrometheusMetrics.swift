import Hummingbird
import Metrics
import Prometheus

/// The process' Prometheus registry, behind the swift-metrics API every module records through.
public enum PrometheusMetrics {
    /// The registry `/metrics` exposes. The first use bootstraps `MetricsSystem`; a static `let`
    /// runs that exactly once per process, because a second bootstrap is a fatal error — and
    /// tests build many applications in one process.
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// Bootstraps the metrics system now, before anything records a metric into the no-op default.
    public static func bootstrap() {
        _ = registry
    }

    public static let contentType = "text/plain; version=0.0.4"

    /// `GET /metrics` in the Prometheus text exposition format.
    static func register(on router: Router<CRMRequestContext>) {
        router.get("/metrics") { _, _ in
            let text = registry.emitToBuffer()
            return Response(
                status: .ok,
                headers: [.contentType: contentType, .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
    }
}
