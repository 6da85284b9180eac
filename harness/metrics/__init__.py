"""What Locust's own stats cannot tell: exact latencies, throttled attempts, consumed capacity.

- `latency`: HDR histograms per (request_type, name), microsecond resolution, mergeable.
- `targets`, `throttling`, `capacity`: facts read from one DynamoDB request/response.
- `sums`, `tally`: the mergeable counters a process accumulates and ships to the master.
- `recorder`: turns attempt listener calls and request events into a tally.
- `locust_hooks`: wires a recorder into Locust (workers send deltas, the master merges and writes).
- `files`, `run_info`: the harness_* files of the run folder (names in harness.metrics.results_files).
- `open_model`, `open_model_hooks`: a run at a target rate: latency from the intended start, late starts, the schedule.

May import target, fastpath, scenario and the shared leaves; the run folder's file names live here (results_files).
"""
