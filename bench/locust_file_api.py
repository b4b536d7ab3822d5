"""Locust load for ``bench/file_api.py`` (run by it; configured through the environment).

FILE_API_TARGET  health | public | gov
FILE_API_RATE    requests per second of one user (the rate is users × this)
FILE_API_ARRIVALS poisson (default) | uniform: how each user spaces its requests (see FileReader)
FILE_API_IDS     JSON list of [subject id, tag] (tag: any | heavy) to draw from
FILE_API_KEY     department API key for the government read
FILE_API_PURPOSE purpose of the government read
FILE_API_SAMPLES where to write every response after the ramp: [start, name, ms, ok, status, bytes]
FILE_API_LIMIT   items per page (``limit``); empty: the API's default page
FILE_API_SETTLE  seconds after the last user has spawned before measuring starts (default 2): the ramp's
                 last second — 100 new connections, each user's first request at once — stalls the load
                 generator itself (/healthz answered in 33 ms then, 2–4 ms after), so it is left out of
                 locust's statistics and of the samples alike

A 404 from the public file is an answer, not a failure: a person with no public information is not
disclosed (``subject.not_found``); anything else but 200 is a failure.
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any
from urllib.parse import quote

import gevent
from locust import FastHttpUser, events, task

TARGET = os.environ.get("FILE_API_TARGET", "health")
RATE = float(os.environ.get("FILE_API_RATE", "2"))
ARRIVALS = os.environ.get("FILE_API_ARRIVALS", "poisson")
IDS: list[list[Any]] = json.loads(open(os.environ["FILE_API_IDS"]).read()) if os.environ.get("FILE_API_IDS") else []
KEY = os.environ.get("FILE_API_KEY", "")
PURPOSE = quote(os.environ.get("FILE_API_PURPOSE", "benchmark"))
SAMPLES = os.environ.get("FILE_API_SAMPLES")
SETTLE = float(os.environ.get("FILE_API_SETTLE", "2"))
LIMIT = os.environ.get("FILE_API_LIMIT", "")

_samples: list[list[Any]] = []
_measuring = {"since": float("inf")}


_environment: list[Any] = []


@events.init.add_listener
def _keep_environment(environment: Any, **_kw: Any) -> None:
    _environment.append(environment)


@events.spawning_complete.add_listener
def _ramp_done(**_kw: Any) -> None:
    def start_measuring() -> None:
        if _environment:
            _environment[0].stats.reset_all()
        _measuring["since"] = time.time()

    gevent.spawn_later(SETTLE, start_measuring)


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


class FileReader(FastHttpUser):
    """One of many users, each starting requests on its own schedule: Poisson arrivals (exponential gaps
    of mean 1/RATE, ``FILE_API_ARRIVALS=poisson``, the default) or a fixed period from a random phase
    (``uniform``), kept on an absolute timeline. Unlike ``constant_throughput``, whose users all fall into
    step after any stall longer than the period (then every request of the run arrives in one burst), a
    late user catches up on its own schedule and the users never synchronise."""

    def wait_time(self) -> float:
        now = time.time()
        scheduled = getattr(self, "_next", None)
        if scheduled is None:
            scheduled = now + (random.random() / RATE if ARRIVALS == "uniform" else 0.0)
        scheduled += random.expovariate(RATE) if ARRIVALS == "poisson" else 1 / RATE
        self._next = scheduled
        return max(0.0, scheduled - now)

    @task
    def read(self) -> None:
        if TARGET == "health":
            with self.client.get("/healthz", name="health", catch_response=True) as resp:
                if resp.status_code != 200:
                    resp.failure(f"status {resp.status_code}")
            return
        subject_id, tag = random.choice(IDS)
        if TARGET == "public":
            url, headers = f"/api/v1/public/subjects/{subject_id}" + (f"?limit={LIMIT}" if LIMIT else ""), None
        else:
            url, headers = (f"/api/v1/gov/subjects/{subject_id}/file?purpose={PURPOSE}"
                            + (f"&limit={LIMIT}" if LIMIT else ""), {"X-API-Key": KEY})
        with self.client.get(url, name=f"{TARGET} [{tag}]", headers=headers, catch_response=True) as resp:
            if resp.status_code == 200 or (resp.status_code == 404 and TARGET == "public"
                                           and b"subject.not_found" in (resp.content or b"")):
                resp.success()
            else:
                resp.failure(f"status {resp.status_code}")
