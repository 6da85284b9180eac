"""From a data model to a load test: `ddb-harness import` and `export` with models written for these tests.

Each model (tests/fixtures/models/) is imported and validated; one headless run of all of them
together (4 s against DynamoDB Local) sends every starter step (no failure allowed), and the items loaded are checked
against what the samples show: key prefixes, sparse shares, maps and lists, sizes, and every
child's parent (or referred item) present in the table. CloudFormation export -> import gives the
same tables. Bad models are one line each, exit 2, nothing written.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO, SCENARIOS

from harness.cli import main
from harness.datasets.template import TemplateItems
from harness.modeling import export_cloudformation, import_model
from harness.scenario import load_scenario

MODELS = REPO / "tests" / "fixtures" / "models"
HARNESS = [sys.executable, "-m", "harness.cli"]
ITEMS = 150  # per entity: loads in about a second
ALL_MODELS = ("social_workbench.json", "shop_workbench.json", "songs_workbench.json", "orders_cfn.yaml", "telemetry_cfn.json")


@dataclass(frozen=True)
class Imported:
    path: Path
    prefix: str
    result: object

    def table(self, name: str) -> str:
        return self.prefix + name


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> dict[str, Imported]:
    """Every model imported once, its tables prefixed so they never meet another test's."""
    folder = tmp_path_factory.mktemp("imported")
    found = {}
    for model in ALL_MODELS:
        prefix = f"m{uuid.uuid4().hex[:6]}-"
        result = import_model(MODELS / model, folder / f"{Path(model).stem}.yaml", items=ITEMS, table_prefix=prefix)
        found[model] = Imported(result.path, prefix, result)
    return found


@pytest.fixture(scope="module")
def ran(imported, endpoint, tmp_path_factory) -> dict[str, dict]:
    """One headless run of every imported scenario's tables and starter mix together, for 4 s; Locust's stats rows by name.

    The four scenarios' tables (prefixed apart) and steps (named apart) go into one file, so one
    run checks them all.
    """
    folder = tmp_path_factory.mktemp("run")
    merged = {"name": "imported-models", "tables": [], "workload": {"mix": []}, "load": {"users": 4, "spawn_rate": 4, "run_time": "4s"}}
    for entry in imported.values():
        data = yaml.safe_load(entry.path.read_text())
        merged["tables"] += data["tables"]
        merged["workload"]["mix"] += data["workload"]["mix"]
    path = folder / "all.yaml"
    path.write_text(yaml.safe_dump(merged, sort_keys=False))
    command = HARNESS + ["run", str(path), "--endpoint-url", endpoint, "--results-dir", str(folder / "results")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    (run_dir,) = [run for run in (folder / "results").iterdir() if run.is_dir()]
    with open(run_dir / "locust_stats.csv", newline="") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def scan(client, table: str) -> list[dict]:
    """Every item of a table (pages of 1,000)."""
    items, start = [], {}
    while True:
        page = client.scan(TableName=table, Limit=1000, **start)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def check_the_run(entry: Imported, rows: dict[str, dict], client) -> dict[str, list[dict]]:
    """The scenario validates, each starter step ran without failure, and every table holds exactly the generated
    items (keys never collide); the tables' items."""
    validated = CliRunner().invoke(main, ["validate", str(entry.path)])
    assert validated.exit_code == 0 and validated.stdout.strip().endswith(": ok"), validated.output
    scenario = load_scenario(entry.path)
    steps = [step.name for step in scenario.workload.mix]
    assert all(int(rows[name]["Request Count"]) > 0 and int(rows[name]["Failure Count"]) == 0 for name in steps), {name: rows.get(name) for name in steps}
    loaded = {}
    for table in scenario.tables:
        loaded[table.name] = scan(client, table.name)
        assert len(loaded[table.name]) == TemplateItems(table.dataset, entry.path.parent).total_items()
    return loaded


def share(items: list[dict], attribute: str) -> float:
    return sum(attribute in item for item in items) / len(items)


def strings(items: list[dict], attribute: str) -> list[str]:
    return [item[attribute]["S"] for item in items if attribute in item]


def test_a_single_table_workbench_model_with_facets_runs_and_keeps_its_shapes(imported, ran, client):
    entry = imported["social_workbench.json"]
    scenario = load_scenario(entry.path)
    (table,) = scenario.tables
    assert [entity.name for entity in table.dataset.entities] == ["user", "post", "follow"]
    assert (table.billing_mode, table.capacity.read, table.capacity.write) == ("PROVISIONED", 200, 200)
    assert {index.name: index.projection.type for index in table.gsis} == {"ByEmail": "INCLUDE", "ByPostId": "KEYS_ONLY", "Featured": "ALL"}
    items = check_the_run(entry, ran, client)[entry.table("social")]
    users = [item for item in items if item["SK"]["S"] == "PROFILE"]
    posts = [item for item in items if item["SK"]["S"].startswith("POST#")]
    follows = [item for item in items if item["SK"]["S"].startswith("FOLLOWS#USER#")]
    assert len(users) == ITEMS and len(users) + len(posts) + len(follows) == len(items)
    assert all(pk.startswith("USER#") for pk in strings(items, "PK"))
    assert all(re.fullmatch(r"POST#\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ#p\d{4}", sk) for sk in strings(posts, "SK"))
    assert all(re.fullmatch(r"p\d{4}", post_id) for post_id in strings(posts, "post_id"))
    # sparse GSI keys stay sparse: 2 of 4 users have GSI1PK, 2 of 6 posts featured_day
    assert abs(share(users, "GSI1PK") - 0.5) < 0.15 and abs(share(posts, "featured_day") - 0.33) < 0.15
    assert all(re.fullmatch(r"EMAIL#\S+@\S+", value) for value in strings(users, "GSI1PK"))
    # maps and lists
    assert all(set(user["address"]["M"]) == {"street", "city", "zip"} and "S" in user["address"]["M"]["zip"] for user in users)
    assert all(all("S" in tag for tag in user["tags"]["L"]) and len(user["tags"]["L"]) <= 3 for user in users)
    assert all(set(post["stats"]["M"]) == {"views", "shares"} for post in posts)
    # relations: every post and follow hangs under an existing user
    user_keys = {user["PK"]["S"] for user in users}
    assert all(item["PK"]["S"] in user_keys for item in posts + follows)


def test_several_workbench_tables_without_facets_refer_to_existing_items(imported, ran, client):
    entry = imported["shop_workbench.json"]
    scenario = load_scenario(entry.path)
    assert [table.billing_mode for table in scenario.tables] == ["PAY_PER_REQUEST"] * 3
    assert [entity.name for entity in scenario.table(entry.table("catalog")).dataset.entities] == ["details", "review"]
    loaded = check_the_run(entry, ran, client)
    customers, orders, catalog = (loaded[entry.table(name)] for name in ("customers", "orders", "catalog"))
    assert all(re.fullmatch(r"c#\d{5}", key) for key in strings(customers, "customer_id"))
    assert all(re.fullmatch(r"o#\d{6}", key) for key in strings(orders, "order_id"))
    assert {order["customer_id"]["S"] for order in orders} <= set(strings(customers, "customer_id"))
    assert abs(share(orders, "shipped_at") - 0.5) < 0.15
    assert all(all(set(line["M"]) == {"sku", "qty"} for line in order["lines"]["L"]) and 1 <= len(order["lines"]["L"]) <= 3 for order in orders)
    details = {item["pk"]["S"] for item in catalog if item["sk"]["S"] == "DETAILS"}
    reviews = [item for item in catalog if item["sk"]["S"].startswith("REVIEW#")]
    assert details and reviews and all(review["pk"]["S"] in details for review in reviews)
    assert all(re.fullmatch(r"PRODUCT#\d{3,}", key) for key in details)


def test_table_level_samples_go_to_their_facets_and_a_facet_without_samples_is_generated_from_types(imported, ran, client):
    entry = imported["songs_workbench.json"]
    (table,) = load_scenario(entry.path).tables
    assert [(entity.name, entity.parent) for entity in table.dataset.entities] == [("songdetails", None), ("downloads", "songdetails"), ("album", None)]
    items = check_the_run(entry, ran, client)[entry.table("songs")]
    details = {item["Id"]["S"] for item in items if item["Metadata"]["S"] == "Details"}
    downloads = [item for item in items if item["Metadata"]["S"].startswith("Dl#")]
    albums = [item for item in items if item["Id"]["S"].startswith("ALBUM#")]
    assert len(details) == len(albums) == ITEMS and all(item["Id"]["S"] in details for item in downloads)
    assert all(re.fullmatch(r"Song \d+", item["Title"]["S"]) for item in items if "Title" in item)
    # the by_genre GSI's keys are in no sample: the facet that writes Year (the other key) writes Genre too
    assert all(re.fullmatch(r"GENRE#\d+", album["Genre"]["S"]) and "N" in album["Year"] for album in albums)


@pytest.mark.parametrize("model", ["orders_cfn.yaml", "telemetry_cfn.json"])
def test_cloudformation_tables_with_gsis_and_lsis_run_from_their_key_types(model, imported, ran, client):
    entry = imported[model]
    loaded = check_the_run(entry, ran, client)
    for table in load_scenario(entry.path).tables:
        described = client.describe_table(TableName=table.name)["Table"]
        assert {index["IndexName"] for index in described.get("LocalSecondaryIndexes", [])} == {index.name for index in table.lsis}
        assert {index["IndexName"]: index["Projection"]["ProjectionType"] for index in described.get("GlobalSecondaryIndexes", [])} == {
            index.name: index.projection.type for index in table.gsis
        }
        assert loaded[table.name]
    if model == "orders_cfn.yaml":
        orders = load_scenario(entry.path).table(entry.table("orders-service"))
        assert (orders.billing_mode, orders.capacity.read, orders.capacity.write) == ("PROVISIONED", 50, 40)  # ReadCapacityUnits: !Ref, its Default
        assert {index.name: index.projection.type for index in orders.gsis} == {"by_status": "ALL", "by_sku": "KEYS_ONLY", "by_total": "INCLUDE"}
        assert entry.prefix + "sessions-dev" in loaded  # !Sub "sessions-${Stage}" with the parameter's Default
        assert "OnDemandThroughput" in entry.path.read_text()


def test_generated_item_sizes_stay_close_to_the_samples(imported):
    for entry in imported.values():
        for entity in entry.result.entities:
            if entity.samples:
                assert 0.7 < entity.generated_mean_kb / entity.sample_mean_kb < 1.5, entity


@pytest.mark.parametrize("model", ALL_MODELS)
def test_cloudformation_export_then_import_gives_the_same_tables(model, imported, tmp_path):
    scenario = load_scenario(imported[model].path)
    template = tmp_path / "template.json"
    exported = CliRunner().invoke(main, ["export", str(imported[model].path), "--format", "cloudformation", "-o", str(template)])
    assert exported.exit_code == 0, exported.output
    again = load_scenario(import_model(template, tmp_path / "again.yaml").path)
    assert [table.model_dump(exclude={"dataset"}) for table in again.tables] == [table.model_dump(exclude={"dataset"}) for table in scenario.tables]


def test_a_shipped_scenario_exports_its_tables_as_a_template():
    template = yaml.safe_load(export_cloudformation(load_scenario(SCENARIOS / "social.yaml")))
    (resource,) = template["Resources"].values()
    assert resource["Type"] == "AWS::DynamoDB::Table"
    assert resource["Properties"]["GlobalSecondaryIndexes"][0]["IndexName"] == "by_tweet"


def test_scale_sets_one_facets_items_and_the_references_follow(tmp_path):
    result = import_model(MODELS / "shop_workbench.json", tmp_path / "shop.yaml", items=40, scale={"customers": 25})
    counts = {(entity.table, entity.entity): entity.items for entity in result.entities}
    assert counts[("customers", "customers")] == 25 and counts[("orders", "orders")] == 40
    text = (tmp_path / "shop.yaml").read_text()
    assert "_customer_id_ref: {integer: {min: 12345, max: 12369}}" in text


BAD_MODELS = {
    "not_json.json": "not JSON: Expecting property name",
    "not_a_model.json": "not a NoSQL Workbench model (no DataModel) nor a CloudFormation template (no Resources)",
    "no_tables.json": "DataModel: expected a list of tables",
    "gsi_key_undefined.json": "GlobalSecondaryIndexes[0].KeyAttributes.PartitionKey: attribute 'owner' is not defined by table 'things'",
    "projection_unknown.json": "Projection.ProjectionType: expected one of ALL, KEYS_ONLY, INCLUDE, found 'SOME'",
    "facet_alias_missing_key.json": "TableFacets[0].KeyAttributeAlias.SortKeyAlias: names a sort key ('Version'), but table 'things' has none",
    "cfn_gsi_key_undefined.yaml": "GlobalSecondaryIndexes[0].KeySchema: key attribute 'owner' is not in AttributeDefinitions",
    "cfn_projection_unknown.yaml": "Projection.ProjectionType: expected one of ALL, KEYS_ONLY, INCLUDE, found 'EVERYTHING'",
    "cfn_no_tables.yaml": "no AWS::DynamoDB::Table or AWS::DynamoDB::GlobalTable resource",
}


@pytest.mark.parametrize("name", sorted(BAD_MODELS))
def test_a_bad_model_is_one_line_exit_2_and_nothing_written(name, tmp_path):
    output = tmp_path / "out.yaml"
    result = CliRunner().invoke(main, ["import", str(MODELS / "bad" / name), "-o", str(output)])
    assert result.exit_code == 2 and not output.exists()
    assert result.stdout == "" and len(result.stderr.splitlines()) == 1, result.output
    assert result.stderr.startswith(f"Error: {MODELS / 'bad' / name}: ") and BAD_MODELS[name] in result.stderr


def test_bad_import_options_are_one_line_and_an_existing_output_is_kept(tmp_path):
    output = tmp_path / "kept.yaml"
    output.write_text("mine\n")
    runner = CliRunner()
    existing = runner.invoke(main, ["import", str(MODELS / "shop_workbench.json"), "-o", str(output)])
    unknown = runner.invoke(main, ["import", str(MODELS / "shop_workbench.json"), "-o", str(tmp_path / "new.yaml"), "--scale", "nobody=3"])
    assert existing.exit_code == unknown.exit_code == 2 and output.read_text() == "mine\n" and not (tmp_path / "new.yaml").exists()
    assert "exists already (use --force" in existing.stderr and "--scale nobody: no facet or entity of that name" in unknown.stderr


def test_a_key_embedding_another_tables_key_refers_to_a_generated_item(tmp_path):
    model = json.loads((MODELS / "shop_workbench.json").read_text())
    invoices = [{"invoice_id": {"S": f"c#{customer}#INV#{k}"}, "total": {"N": str(10 * k)}} for k, customer in enumerate([12345, 12346, 12350, 12345])]
    model["DataModel"].append({"TableName": "invoices", "KeyAttributes": {"PartitionKey": {"AttributeName": "invoice_id", "AttributeType": "S"}}, "TableData": invoices})
    (tmp_path / "shop.json").write_text(json.dumps(model))
    scenario = load_scenario(import_model(tmp_path / "shop.json", tmp_path / "shop.yaml", items=60).path)
    customers = TemplateItems(scenario.table("customers").dataset)
    ids = {customers.item_at("customers", index)["customer_id"]["S"] for index in range(customers.entity_count("customers"))}
    generated = TemplateItems(scenario.table("invoices").dataset)
    keys = [generated.item_at("invoices", index)["invoice_id"]["S"] for index in range(generated.entity_count("invoices"))]
    assert len(set(keys)) == len(keys) == 60
    assert all(re.fullmatch(r"c#\d+#INV#\d+", key) and key.rsplit("#INV#", 1)[0] in ids for key in keys)
