"""From a data model to a load test: NoSQL Workbench exports and CloudFormation templates to scenarios, and back.

`import_model` learns the shape of every facet's sample items and writes a scenario (template
datasets and a starter mix) that validates and runs as written; `export_cloudformation` writes a
scenario's tables as a CloudFormation template.
"""

from harness.modeling.cloudformation import export_cloudformation
from harness.modeling.importer import DEFAULT_ITEMS, ImportResult, import_model

__all__ = ["DEFAULT_ITEMS", "ImportResult", "export_cloudformation", "import_model"]
