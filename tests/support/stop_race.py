"""Users stopped while they run (tests/test_user_stop.py): prints how many requests began and how many ended.

    python tests/support/stop_race.py harness|plain

40 users with wait_time 0 each run a "request" (a 1 ms gevent sleep, as a socket wait would be)
and are stopped gracefully one after another, at random moments, as Locust's stop_users does
with a stop_timeout. Run in its own process: importing locust monkey-patches the interpreter.
"""

from gevent import monkey

monkey.patch_all()
import random
import sys
from types import SimpleNamespace

import gevent
from gevent.pool import Group
from locust import User, constant, task
from locust.env import Environment

from harness.workload.users import DynamoDBUser

USERS = 40


class Probe:
    """Counts requests begun and ended; a request is a short gevent sleep, as a socket wait would be."""

    def __init__(self):
        self.begun = self.ended = 0

    def request(self) -> None:
        self.begun += 1
        gevent.sleep(0.001)
        self.ended += 1


def make_classes(probe: Probe):
    class PlainUser(User):
        wait_time = constant(0)

        @task
        def step(self):
            probe.request()

    class HarnessUser(DynamoDBUser):
        wait_time = constant(0)

        @task
        def step(self):
            probe.request()

    return PlainUser, HarnessUser


def stop_users_mid_run(user_class, probe: Probe) -> None:
    environment = Environment(user_classes=[user_class])
    environment.harness_run = SimpleNamespace(client=lambda: None, next_user_ordinal=lambda: 0)
    group = Group()
    users = [user_class(environment) for _ in range(USERS)]
    for user in users:
        user.start(group)
    rng = random.Random(7)
    for user in users:  # gracefully, as Locust's stop_users does with a stop_timeout
        gevent.sleep(rng.uniform(0.0005, 0.003))
        user.stop(force=False)
    assert group.join(timeout=10)


if __name__ == "__main__":
    probe = Probe()
    plain, harness = make_classes(probe)
    stop_users_mid_run(harness if sys.argv[1] == "harness" else plain, probe)
    print(probe.begun, probe.ended)
