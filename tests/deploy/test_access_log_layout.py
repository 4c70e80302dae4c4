"""Access logs land where the Athena table reads them, in both template flavours (issue 14).

One definition: ``image_ops.accesslogs.athena.delivery_suffix_path(format)``. Both templates
must configure the standard logging v2 delivery with exactly that suffix path for every format
they offer and let the delivery write under it; the committed table DDL of each format with a
table (LOCATION + partition projection) must find the object key such a delivery produces.
"""

from __future__ import annotations

import re
from datetime import date
from fnmatch import fnmatchcase
from typing import Any

import pytest

from image_ops.accesslogs.athena import (
    ATHENA_FORMATS,
    LOG_PREFIX,
    LOGS_BUCKET,
    delivery_suffix_path,
)
from image_ops.accesslogs.fields import FIELD_NAMES, FIELDS
from tests.deploy.conftest import DEPLOY, Terraform, cfn_resources, cfn_statements

DISTRIBUTION_ID = "E2EXAMPLE0DIST"  # the projection enum value in the committed DDL
DAY = date(2026, 1, 28)
FILE_NAME = f"{DISTRIBUTION_ID}.2026-01-28-13.a1b2c3d4.gz"
TABLE_FILES = {
    "w3c": "00_table_cloudfront_logs.sql",
    "parquet": "00_table_cloudfront_logs_parquet.sql",
}
OFFERED = ("w3c", "json", "plain", "parquet")
JAVA_TO_STRFTIME = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H"}


def delivered_key(suffix_path: str) -> str:
    """The object key standard logging v2 writes for one log file, given the suffix path."""
    values = {
        "{DistributionId}": DISTRIBUTION_ID,
        "{yyyy}": f"{DAY:%Y}",
        "{MM}": f"{DAY:%m}",
        "{dd}": f"{DAY:%d}",
    }
    for variable, value in values.items():
        suffix_path = suffix_path.replace(variable, value)
    assert "{" not in suffix_path, f"unexpanded variable in {suffix_path}"
    return f"{suffix_path.rstrip('/')}/{FILE_NAME}"


def athena_table(fmt: str) -> tuple[str, dict[str, str]]:
    """LOCATION and TBLPROPERTIES of the committed deploy/athena table DDL for ``fmt``."""
    ddl = (DEPLOY / "athena" / TABLE_FILES[fmt]).read_text()
    location = re.search(r"^LOCATION '([^']+)'", ddl, flags=re.M)
    assert location
    props = dict(re.findall(r"'([^']+)'='([^']*)'", ddl))
    return location.group(1), props


def table_finds(key: str, fmt: str) -> bool:
    """Does ``fmt``'s table put s3://bucket/key in the partition (E2EXAMPLE0DIST, DAY)?"""
    location, props = athena_table(fmt)
    assert props["projection.enabled"] == "true"
    assert DISTRIBUTION_ID in props["projection.distributionid.values"].split(",")
    template = props["storage.location.template"]
    assert template.startswith(location), "the projection stays under LOCATION"
    dt_format = props["projection.dt.format"]
    for java, strf in JAVA_TO_STRFTIME.items():
        dt_format = dt_format.replace(java, strf)
    partition = template.replace("${distributionid}", DISTRIBUTION_ID).replace(
        "${dt}", DAY.strftime(dt_format)
    )
    url = f"s3://{LOGS_BUCKET}/{key}"
    return url.startswith(partition) and "/" not in url.removeprefix(partition)


def cfn_suffix_path(cfn: dict[str, Any], fmt: str) -> str:
    """The S3SuffixPath the stack configures when LogOutputFormat is ``fmt``."""
    (delivery,) = cfn_resources(cfn, "AWS::Logs::Delivery").values()
    suffix: str = delivery["Properties"]["S3SuffixPath"]["Fn::Sub"]
    return suffix.replace("${LogOutputFormat}", fmt)


def tf_suffix_path(tf: Terraform, fmt: str) -> str:
    """The suffix_path the module configures when log_output_format is ``fmt``."""
    config = tf.resource("aws_cloudwatch_log_delivery", "access")["s3_delivery_configuration"][0]
    return tf.resolve_locals(config["suffix_path"]).replace("${var.log_output_format}", fmt)


@pytest.mark.parametrize("fmt", ATHENA_FORMATS)
def test_the_key_a_delivery_writes_is_in_its_table_partition(fmt: str) -> None:
    assert table_finds(delivered_key(delivery_suffix_path(fmt)), fmt)


@pytest.mark.parametrize("fmt", ATHENA_FORMATS)
def test_keys_outside_the_layout_are_not_found(fmt: str) -> None:
    """The check can fail: v2's default path (no suffix), a legacy file name and the other
    format's files are not read."""
    assert not table_finds(f"AWSLogs/123456789012/CloudFront/{FILE_NAME}", fmt)
    assert not table_finds(f"cloudfront/{FILE_NAME}", fmt)
    assert not table_finds(delivered_key(LOG_PREFIX + "{DistributionId}/{yyyy}/{MM}/{dd}"), fmt)
    (other,) = (f for f in ATHENA_FORMATS if f != fmt)
    assert not table_finds(delivered_key(delivery_suffix_path(other)), fmt)


def test_both_templates_default_to_parquet(cfn: dict[str, Any], tf: Terraform) -> None:
    assert cfn["Parameters"]["LogOutputFormat"]["Default"] == "parquet"
    assert cfn["Parameters"]["LogOutputFormat"]["AllowedValues"] == list(OFFERED)
    assert tf.variables["log_output_format"]["default"] == "parquet"


@pytest.mark.parametrize("fmt", OFFERED)
def test_cloudformation_delivery_uses_the_definition(cfn: dict[str, Any], fmt: str) -> None:
    assert cfn_suffix_path(cfn, fmt) == delivery_suffix_path(fmt)
    if fmt in ATHENA_FORMATS:
        assert table_finds(delivered_key(cfn_suffix_path(cfn, fmt)), fmt)


@pytest.mark.parametrize("fmt", OFFERED)
def test_terraform_delivery_uses_the_definition(tf: Terraform, fmt: str) -> None:
    assert tf_suffix_path(tf, fmt) == delivery_suffix_path(fmt)
    assert tf.locals["access_log_prefix"] == LOG_PREFIX
    if fmt in ATHENA_FORMATS:
        assert table_finds(delivered_key(tf_suffix_path(tf, fmt)), fmt)


def test_cloudformation_bucket_policy_lets_the_delivery_write_that_key(
    cfn: dict[str, Any],
) -> None:
    stmt = cfn_statements(cfn, "LogsBucketPolicy")["AllowCloudFrontLogDeliveryV2"]
    pattern = stmt["Resource"]["Fn::Sub"].replace(
        "${LogsBucket.Arn}", f"arn:aws:s3:::{LOGS_BUCKET}"
    )
    key_arn = f"arn:aws:s3:::{LOGS_BUCKET}/{delivered_key(cfn_suffix_path(cfn, 'parquet'))}"
    assert fnmatchcase(key_arn, pattern), (key_arn, pattern)
    assert cfn["Parameters"]["LogsBucketName"]["Default"] == LOGS_BUCKET


def test_terraform_bucket_policy_lets_the_delivery_write_that_key(tf: Terraform) -> None:
    (resource,) = tf.statements("logs")["AllowCloudFrontLogDeliveryV2"]["resources"]
    pattern = tf.resolve_locals(resource).replace(
        "${aws_s3_bucket.logs.arn}", f"arn:aws:s3:::{LOGS_BUCKET}"
    )
    key_arn = f"arn:aws:s3:::{LOGS_BUCKET}/{delivered_key(tf_suffix_path(tf, 'parquet'))}"
    assert fnmatchcase(key_arn, pattern), (key_arn, pattern)
    assert tf.variables["logs_bucket_name"]["default"] == LOGS_BUCKET


@pytest.mark.parametrize("flavour", ["cloudformation", "terraform"])
def test_legacy_logs_stay_out_of_the_table_location(
    flavour: str, cfn: dict[str, Any], tf: Terraform
) -> None:
    """Legacy files (flat, a different format header) must not mix into the v2 layout."""
    if flavour == "cloudformation":
        (dist,) = cfn_resources(cfn, "AWS::CloudFront::Distribution").values()
        prefix = dist["Properties"]["DistributionConfig"]["Logging"]["Fn::If"][1]["Prefix"]
    else:
        logging = tf.resource("aws_cloudfront_distribution", "images")["dynamic"][0]
        prefix = tf.resolve_locals(logging["logging_config"]["content"][0]["prefix"])
    assert prefix == "cloudfront-legacy/"
    assert not prefix.startswith(LOG_PREFIX)


def test_delivered_columns_are_the_table_columns(cfn: dict[str, Any], tf: Terraform) -> None:
    """The table reads tab-separated columns by position: the delivery must write exactly those."""
    ddl = (DEPLOY / "athena" / TABLE_FILES["w3c"]).read_text()
    assert "FIELDS TERMINATED BY '\\t'" in ddl
    columns = re.findall(r"^  `(\w+)` ", ddl, flags=re.M)
    assert columns == [f.column for f in FIELDS]
    (delivery,) = cfn_resources(cfn, "AWS::Logs::Delivery").values()
    assert delivery["Properties"]["RecordFields"] == list(FIELD_NAMES)
    # The delimiter is set for the delimited formats only (w3c, plain).
    delimiter = delivery["Properties"]["FieldDelimiter"]["Fn::If"]
    assert delimiter[0] == "LogFormatIsDelimited" and delimiter[1] == "\t"
    assert delimiter[2] == {"Ref": "AWS::NoValue"}
    tf_delivery = tf.resource("aws_cloudwatch_log_delivery", "access")
    assert tf_delivery["record_fields"] == "${local.access_log_record_fields}"
    assert tf.locals["access_log_record_fields"] == list(FIELD_NAMES)
    assert tf_delivery["field_delimiter"] == (
        '${contains(["w3c", "plain"], var.log_output_format) ? "\\t" : null}'
    )
