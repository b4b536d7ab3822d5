"""Locust load for ``bench/check_api.py`` (configured through the environment).

CHECK_API_TARGET  health | check
CHECK_API_RATE    requests per second of one user (the rate is users × this; Poisson arrivals)
CHECK_API_IDS     JSON list of [identifier, scenario]
CHECK_API_KEY     the department API key
CHECK_API_SAMPLES where to write every response after the ramp: [start, name, ms, ok, status, bytes]
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any

from locust import FastHttpUser, events, task

TARGET = os.environ.get("CHECK_API_TARGET", "health")
RATE = float(os.environ.get("CHECK_API_RATE", "10"))
IDS: list[list[str]] = json.loads(open(os.environ["CHECK_API_IDS"]).read()) if os.environ.get("CHECK_API_IDS") else []
HEADERS = {"Authorization": f"Bearer {os.environ.get('CHECK_API_KEY', '')}", "Content-Type": "application/json"}
SAMPLES = os.environ.get("CHECK_API_SAMPLES")
BODIES = [json.dumps({"subject": s, "scenario": sc}).encode() for s, sc in IDS]

_samples: list[list[Any]] = []
_measuring = {"since": float("inf")}


@events.spawning_complete.add_listener
def _ramp_done(**_kw: Any) -> None:
    _measuring["since"] = time.time()


@events.request.add_listener
def _record(name: str, response_time: float, response_length: int, response: Any = None,
            exception: Any = None, start_time: float | None = None, **_kw: Any) -> None:
    start = start_time if start_time is not None else time.time() - response_time / 1000
    if start >= _measuring["since"]:
        status = getattr(response, "status_code", 0) if response is not None else 0
        _samples.append([start, name, response_time, exception is None, status, response_length])


@events.quitting.add_listener
def _write(**_kw: Any) -> None:
    if SAMPLES:
        with open(SAMPLES, "w") as fh:
            json.dump(_samples, fh)


class Checker(FastHttpUser):
    """Poisson arrivals on an absolute timeline (see bench/locust_file_api.py for why)."""

    def wait_time(self) -> float:
        now = time.time()
        scheduled = getattr(self, "_next", None) or now
        scheduled += random.expovariate(RATE)
        self._next = scheduled
        return max(0.0, scheduled - now)

    @task
    def go(self) -> None:
        if TARGET == "health":
            with self.client.get("/healthz", name="health", catch_response=True) as resp:
                if resp.status_code != 200:
                    resp.failure(f"status {resp.status_code}")
            return
        with self.client.post("/api/v1/checks", data=random.choice(BODIES), headers=HEADERS, name="check",
                              catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"status {resp.status_code}")
