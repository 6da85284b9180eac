"""What keeps a run off real AWS unless asked, and within a cost ceiling: the AWS opt-in and the ceiling.

May import report (its price table), target, datasets, scenario and the shared leaves; never run or workload.
"""
