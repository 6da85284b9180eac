"""One run from start to results: the runner, the target session, the Locust plugin and web tab, worker processes, rate and stages.

May import every package below it (workload, safety, report, metrics, gate, ops, target, datasets, fastpath, scenario).
"""
