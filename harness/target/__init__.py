"""What a run talks to: the embedded DynamoDB Local, the client factory, tables and their ownership, the loader.

May import datasets, fastpath, scenario and the shared leaves; never Locust, never the layers above.
"""
