"""Load-testing harness for Amazon DynamoDB: scenarios, embedded local target, Locust users, results."""
__version__ = "0.1.0"
