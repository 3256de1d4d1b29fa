"""Prometheus metrics in the text exposition format, kept per process.

With several workers each process reports its own figures; Prometheus sums them across
scrape targets. Nothing here holds state another instance would need.
"""

from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.latency_buckets: dict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self.latency_sum: dict[str, float] = defaultdict(float)
        self.latency_count: dict[str, int] = defaultdict(int)
        self.turns_evaluated = 0
        self.evaluations = 0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, str(status))] += 1
            buckets = self.latency_buckets[route]
            for index, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    buckets[index] += 1
            self.latency_sum[route] += seconds
            self.latency_count[route] += 1

    def turn_evaluated(self) -> None:
        with self._lock:
            self.turns_evaluated += 1

    def evaluated(self) -> None:
        with self._lock:
            self.evaluations += 1

    def render(self, gauges: dict[str, tuple[str, float]] | None = None) -> str:
        lines = [
            "# HELP coach_http_requests_total HTTP requests by method, route and status.",
            "# TYPE coach_http_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), count in sorted(self.requests.items()):
                labels = f'method="{method}",route="{route}",status="{status}"'
                lines.append(f"coach_http_requests_total{{{labels}}} {count}")
            lines += [
                "# HELP coach_http_request_duration_seconds Time to answer a request.",
                "# TYPE coach_http_request_duration_seconds histogram",
            ]
            for route in sorted(self.latency_count):
                for bound, count in zip(BUCKETS, self.latency_buckets[route], strict=True):
                    lines.append(
                        f'coach_http_request_duration_seconds_bucket{{route="{route}",le="{bound}"}} {count}'
                    )
                lines.append(
                    f'coach_http_request_duration_seconds_bucket{{route="{route}",le="+Inf"}} '
                    f"{self.latency_count[route]}"
                )
                total, count = self.latency_sum[route], self.latency_count[route]
                lines.append(f'coach_http_request_duration_seconds_sum{{route="{route}"}} {total:.6f}')
                lines.append(f'coach_http_request_duration_seconds_count{{route="{route}"}} {count}')
            lines += [
                "# HELP coach_turns_evaluated_total Trainee turns evaluated and recorded.",
                "# TYPE coach_turns_evaluated_total counter",
                f"coach_turns_evaluated_total {self.turns_evaluated}",
                "# HELP coach_evaluations_total Stateless evaluations served.",
                "# TYPE coach_evaluations_total counter",
                f"coach_evaluations_total {self.evaluations}",
            ]
        for name, (help_text, value) in sorted((gauges or {}).items()):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value:g}"]
        return "\n".join(lines) + "\n"
