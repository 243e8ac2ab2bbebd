"""Column names: every format's header becomes the name AWS itself gives the column in its
legacy Parquet files and in CUR 2.0, so that legacy CSV, legacy Parquet and CUR 2.0 line up.

The expected names are written out literally, as AWS's data dictionaries and Athena tables
spell them, not computed: a rule shared by the test and the code could be wrong in both."""
from __future__ import annotations

import pytest

from open_finops.aws.columns import canonical_type, normalize, unique_names

# (legacy CSV header, AWS's Parquet / CUR 2.0 name, DuckDB type in the store)
AWS_NAMES = [
    ("lineItem/UnblendedCost", "line_item_unblended_cost", "DOUBLE"),
    ("lineItem/LineItemType", "line_item_line_item_type", "VARCHAR"),
    ("lineItem/UsageStartDate", "line_item_usage_start_date", "TIMESTAMP"),
    ("lineItem/UsageAmount", "line_item_usage_amount", "DOUBLE"),
    ("lineItem/UnblendedRate", "line_item_unblended_rate", "DOUBLE"),
    ("lineItem/NormalizationFactor", "line_item_normalization_factor", "DOUBLE"),
    ("lineItem/UsageAccountId", "line_item_usage_account_id", "VARCHAR"),
    ("identity/LineItemId", "identity_line_item_id", "VARCHAR"),
    ("bill/BillingPeriodStartDate", "bill_billing_period_start_date", "TIMESTAMP"),
    ("bill/PayerAccountId", "bill_payer_account_id", "VARCHAR"),
    ("product/ProductName", "product_product_name", "VARCHAR"),
    ("product/servicecode", "product_servicecode", "VARCHAR"),
    ("product/usagetype", "product_usagetype", "VARCHAR"),
    ("product/regionCode", "product_region_code", "VARCHAR"),
    ("pricing/publicOnDemandCost", "pricing_public_on_demand_cost", "DOUBLE"),
    ("pricing/publicOnDemandRate", "pricing_public_on_demand_rate", "DOUBLE"),
    ("pricing/unit", "pricing_unit", "VARCHAR"),
    ("pricing/RateId", "pricing_rate_id", "VARCHAR"),
    ("reservation/ReservationARN", "reservation_reservation_a_r_n", "VARCHAR"),
    ("reservation/EffectiveCost", "reservation_effective_cost", "DOUBLE"),
    ("reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
     "reservation_unused_amortized_upfront_fee_for_billing_period", "DOUBLE"),
    ("reservation/UnusedRecurringFee", "reservation_unused_recurring_fee", "DOUBLE"),
    ("savingsPlan/SavingsPlanARN", "savings_plan_savings_plan_a_r_n", "VARCHAR"),
    ("savingsPlan/SavingsPlanEffectiveCost", "savings_plan_savings_plan_effective_cost",
     "DOUBLE"),
    ("savingsPlan/TotalCommitmentToDate", "savings_plan_total_commitment_to_date", "DOUBLE"),
    ("savingsPlan/UsedCommitment", "savings_plan_used_commitment", "DOUBLE"),
    ("savingsPlan/StartTime", "savings_plan_start_time", "VARCHAR"),
    ("splitLineItem/SplitUsageRatio", "split_line_item_split_usage_ratio", "DOUBLE"),
    ("discount/TotalDiscount", "discount_total_discount", "DOUBLE"),
    ("resourceTags/user:Cost Center", "resource_tags_user_cost_center", "VARCHAR"),
    ("resourceTags/user:CostCenter", "resource_tags_user_cost_center", "VARCHAR"),
    ("resourceTags/aws:createdBy", "resource_tags_aws_created_by", "VARCHAR"),
    ("costCategory/Team", "cost_category_team", "VARCHAR"),
]


@pytest.mark.parametrize("header, name, sql_type", AWS_NAMES)
def test_legacy_csv_headers_become_aws_parquet_names(header, name, sql_type):
    assert normalize(header) == name
    assert normalize(name) == name  # legacy Parquet and CUR 2.0 names stay as they are
    assert canonical_type(name) == sql_type


def test_the_issue_example_and_a_byte_order_mark():
    assert normalize("lineItem/UnblendedCost") == "line_item_unblended_cost"
    assert normalize("\ufefflineItem/UnblendedCost") == "line_item_unblended_cost"


@pytest.mark.parametrize("name, sql_type", [
    ("resource_tags", "MAP(VARCHAR, VARCHAR)"), ("product", "MAP(VARCHAR, VARCHAR)"),
    ("cost_category", "MAP(VARCHAR, VARCHAR)"), ("discount", "MAP(VARCHAR, DOUBLE)"),
    ("bill_billing_period_end_date", "TIMESTAMP"), ("line_item_net_unblended_cost", "DOUBLE"),
])
def test_cur2_columns_keep_their_names_and_types(name, sql_type):
    assert normalize(name) == name
    assert canonical_type(name) == sql_type


def test_names_that_collide_are_made_unique():
    headers = ["resourceTags/user:Env", "resourceTags/user:env", "resourceTags/user:ENV ",
               "export_name", "billing_period"]
    assert unique_names(headers) == [
        "resource_tags_user_env", "resource_tags_user_env_2", "resource_tags_user_e_n_v",
        "export_name_source", "billing_period_source"]
