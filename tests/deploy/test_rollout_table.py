"""The rollout flag's DynamoDB table and the pods' least-privilege grant (issue 12)."""

from __future__ import annotations

from typing import Any

from tests.deploy.conftest import Terraform, cfn_resources

Template = dict[str, Any]
TABLE = "wishlist-image-cdn-rollout"
STORE_URL = f"dynamodb://{TABLE}/rollout"


def test_cloudformation_table(cfn: Template) -> None:
    (table,) = cfn_resources(cfn, "AWS::DynamoDB::Table").values()
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["TableName"] == {"Ref": "RolloutTableName"}
    assert cfn["Parameters"]["RolloutTableName"]["Default"] == TABLE
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["DeletionProtectionEnabled"] is True


def test_cloudformation_grant_is_one_item_of_that_table(cfn: Template) -> None:
    policy = cfn_resources(cfn, "AWS::IAM::ManagedPolicy")["ImageResolverPolicy"]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    dynamo = [s for s in statements if any(a.startswith("dynamodb:") for a in s["Action"])]
    assert dynamo == [
        {
            "Sid": "RolloutTable",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
            "Resource": {"Fn::GetAtt": ["RolloutTable", "Arn"]},
            "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["rollout"]}},
        }
    ]
    assert not [s for s in statements if any(a.startswith("ssm:") for a in s["Action"])]
    outputs = cfn["Outputs"]
    assert outputs["RolloutTableName"]["Value"] == {"Ref": "RolloutTable"}
    assert outputs["RolloutStoreUrl"]["Value"] == {"Fn::Sub": "dynamodb://${RolloutTable}/rollout"}


def test_terraform_table(tf: Terraform) -> None:
    table = tf.resource("aws_dynamodb_table", "rollout")
    assert table["name"] == "${var.rollout_table_name}"
    assert tf.variables["rollout_table_name"]["default"] == TABLE
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["hash_key"] == "id"
    assert table["attribute"] == [{"name": "id", "type": "S"}]
    assert table["point_in_time_recovery"] == [{"enabled": True}]
    assert table["server_side_encryption"] == [{"enabled": True}]
    assert table["deletion_protection_enabled"] is True
    assert table["lifecycle"][0]["prevent_destroy"] is True


def test_terraform_grant_is_one_item_of_that_table(tf: Terraform) -> None:
    stmts = tf.statements("image_resolver")
    dynamo = [s for s in stmts.values() if any(a.startswith("dynamodb:") for a in s["actions"])]
    assert dynamo == [stmts["RolloutTable"]]
    grant = stmts["RolloutTable"]
    assert grant["actions"] == ["dynamodb:GetItem", "dynamodb:PutItem"]
    assert grant["resources"] == ["${aws_dynamodb_table.rollout.arn}"]
    (cond,) = grant["condition"]
    assert (cond["test"], cond["variable"]) == ("ForAllValues:StringEquals", "dynamodb:LeadingKeys")
    assert [tf.resolve_locals(v) for v in cond["values"]] == ["rollout"]
    assert not [s for s in stmts.values() if any(a.startswith("ssm:") for a in s["actions"])]
    outputs = tf.outputs
    assert outputs["rollout_table_name"]["value"] == "${aws_dynamodb_table.rollout.name}"
    url = outputs["rollout_store_url"]["value"].replace("${aws_dynamodb_table.rollout.name}", TABLE)
    assert tf.resolve_locals(url) == STORE_URL
