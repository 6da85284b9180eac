"""DynamoDB's wire format as facts: item sizes and capacity units by DynamoDB's rules, the keys a request names, PartiQL statement targets.

Pure functions over the JSON DynamoDB sends and receives ({"S": "..."}, {"N": "12"}); shared by the
capacity gate (admission), the metrics (per-key tallies, estimated units) and anything else that
must read a request the way DynamoDB does.

Imports nothing of the harness: only the standard library.
"""
