"""Stopping users never cuts a request in half: the race of Locust's kill of a waiting user, run for real under gevent.

A user with wait_time 0 is "waiting" most of the time it is not in a request, and its wake-up is
nearly always due already. Locust kills a waiting user at once; the kill then lands in its next
request, which was sent and never counted. The harness's DynamoDBUser.stop marks it stopping
instead. Plain Locust users are stopped the same way here, to show the test sees the race.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
USERS = 40  # as in the script
# In a child process: importing locust monkey-patches the interpreter.
SCRIPT = Path(__file__).parent / "support" / "stop_race.py"

def requests_begun_and_ended(kind: str) -> tuple[int, int]:
    done = subprocess.run([sys.executable, str(SCRIPT), kind], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    begun, ended = done.stdout.split()
    return int(begun), int(ended)


def test_a_harness_user_stopped_while_waiting_finishes_no_request_half_way():
    begun, ended = requests_begun_and_ended("harness")
    assert begun > USERS
    assert begun == ended


def test_plain_locust_users_show_the_race_this_guards_against():
    begun, ended = requests_begun_and_ended("plain")
    assert begun > ended  # some were killed inside a request
